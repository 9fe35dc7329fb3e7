"""Reads of queries and check runs, scoped to what the user may see (ARCHITECTURE.md invariant 7).

- data managers: every query of every site, drafts included;
- monitors: the queries of their assigned sites, drafts included (they raise queries too);
- investigators and coordinators: the released queries of their own sites (a draft is the data
  team's until it is released), and none of the data team's internal messages on a draft.
Queries are blinded data: nothing here reads or says the arm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ecrf.accounts.roles import Role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.core.errors import not_found
from ecrf.crf.checks import CheckScope, all_checks, evaluate, target_key
from ecrf.crf.models import Participant
from ecrf.queries.models import UNRESOLVED_STATES, CheckRun, Query, QueryMessage

# ARCHITECTURE.md "Roles": monitors and data managers raise queries; data managers close them
# and run the checks; site staff answer them.
DATA_TEAM_ROLES = frozenset({Role.DATA_MANAGER, Role.MONITOR})
SITE_ANSWER_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR})
QUERY_ROLES = DATA_TEAM_ROLES | SITE_ANSWER_ROLES
RUN_ROLES = frozenset({Role.DATA_MANAGER})
CATALOGUE_ROLES = DATA_TEAM_ROLES

# Age bands of the aging picture: (label, lower bound in days inclusive, upper bound exclusive).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7 days", 0, 8), ("8-14 days", 8, 15), ("15-30 days", 15, 31), ("over 30 days", 31, None))


def can_work_with_queries(user: Any) -> bool:
    return bool(user_roles(user) & QUERY_ROLES)


def is_data_team(user: Any) -> bool:
    return bool(user_roles(user) & DATA_TEAM_ROLES)


def site_answerers(site_id: Any, roles: Any = SITE_ANSWER_ROLES) -> QuerySet[Any]:
    """The active users who answer queries at site ``site_id`` (holders of one of ``roles``,
    the site's answering roles by default)."""
    return (get_user_model().objects.filter(is_active=True, groups__name__in=sorted(roles), sites=site_id)
            .distinct())


def _scope(user: Any) -> Q | None:
    """The condition on queries that ``user`` may see; ``None`` for every query."""
    roles = user_roles(user)
    if Role.DATA_MANAGER in roles:
        return None
    condition = Q(pk__in=[])
    sites = member_site_ids(user)
    if Role.MONITOR in roles:
        condition |= Q(participant__site_id__in=sites)
    if roles & SITE_ANSWER_ROLES:
        condition |= Q(participant__site_id__in=sites, released_at__isnull=False)
    return condition


def queries_for(user: Any) -> QuerySet[Query]:
    qs = Query.objects.select_related("participant", "participant__site", "raised_by", "assignee")
    condition = _scope(user)
    return qs if condition is None else qs.filter(condition)


def query_get(user: Any, pk: Any) -> Query:
    """The query if ``user`` may see it; the same 404 for missing and out of scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found("query") from None
    query = queries_for(user).filter(pk=pk).first()
    if query is None:
        raise not_found("query")
    return query


def messages_for(user: Any, query: Query) -> QuerySet[QueryMessage]:
    """A query's thread as ``user`` may read it: site staff never read the internal messages
    written while it was a draft."""
    qs = QueryMessage.objects.filter(query=query).select_related("author").order_by("at", "pk")
    if not is_data_team(user):
        qs = qs.filter(internal=False)
    return qs


def filter_queries(qs: QuerySet[Query], params: Any, *, now: dt.datetime | None = None) -> QuerySet[Query]:
    """The inbox's and the API's filters: ``site`` (code), ``form`` (form key), ``check`` (code,
    or ``manual``), ``state``, ``draft`` (``yes``/``no``), ``participant`` (id), ``min_age`` /
    ``max_age`` (whole days open)."""
    now = now or timezone.now()
    if params.get("site"):
        qs = qs.filter(participant__site__code=params["site"])
    if params.get("form"):
        qs = qs.filter(form_key=params["form"])
    if params.get("check"):
        qs = qs.filter(check_code__isnull=True) if params["check"] == "manual" else qs.filter(check_code=params["check"])
    if params.get("state"):
        qs = qs.filter(state=params["state"])
    if params.get("draft") in ("yes", "no"):
        qs = qs.filter(released_at__isnull=params["draft"] == "yes")
    if str(params.get("participant", "")).isdigit():
        qs = qs.filter(participant_id=int(params["participant"]))
    if str(params.get("min_age", "")).isdigit():
        qs = qs.filter(opened_at__lte=now - dt.timedelta(days=int(params["min_age"])))
    if str(params.get("max_age", "")).isdigit():
        qs = qs.filter(opened_at__gt=now - dt.timedelta(days=int(params["max_age"]) + 1))
    return qs


@dataclass(frozen=True)
class Counts:
    by_site: list[tuple[str, int]]
    by_form: list[tuple[str, int]]
    by_check: list[tuple[str, int]]
    by_state: list[tuple[str, int]]


def query_counts(qs: QuerySet[Query]) -> Counts:
    """Counts of ``qs`` per site, form, check and state: four grouped queries whatever the size."""
    def grouped(column: str) -> list[tuple[str, int]]:
        rows = qs.order_by().values(column).annotate(n=Count("pk")).order_by(column)
        return [(r[column] if r[column] is not None else "manual", r["n"]) for r in rows]

    return Counts(by_site=grouped("participant__site__code"), by_form=grouped("form_key"),
                  by_check=grouped("check_code"), by_state=grouped("state"))


def aging(user: Any, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Unresolved queries by site and age band (days since opened), in one grouped query."""
    now = now or timezone.now()
    bands = {}
    for label, low, high in AGE_BANDS:
        band = Q(opened_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            band &= Q(opened_at__gt=now - dt.timedelta(days=high))
        bands[label] = Count("pk", filter=band)
    rows = (queries_for(user).filter(state__in=UNRESOLVED_STATES).order_by()
            .values("participant__site__code").annotate(**{f"b{i}": c for i, c in enumerate(bands.values())})
            .order_by("participant__site__code"))
    return [{"site": r["participant__site__code"],
             "bands": [(label, r[f"b{i}"]) for i, label in enumerate(bands)]} for r in rows]


def check_runs_for(user: Any) -> QuerySet[CheckRun]:
    if not user_roles(user) & RUN_ROLES:
        return CheckRun.objects.none()
    return CheckRun.objects.select_related("requested_by")


def check_run_get(user: Any, pk: Any) -> CheckRun:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found("check run") from None
    run = check_runs_for(user).filter(pk=pk).first()
    if run is None:
        raise not_found("check run")
    return run


def unresolved_by_participant(*, site_id: int | None = None) -> list[dict[str, Any]]:
    """Unresolved queries (drafts included) per participant, for the study-lock gate: one query."""
    qs = Query.objects.filter(state__in=UNRESOLVED_STATES)
    if site_id is not None:
        qs = qs.filter(participant__site_id=site_id)
    return list(qs.order_by().values("participant_id", "participant__subject_id", "participant__screening_number")
                .annotate(n=Count("pk")).order_by("participant_id"))


def unresolved_count(*, site_id: int | None = None, participant_id: int | None = None) -> int:
    """How many queries (drafts included) are open or answered: what the review app asks."""
    qs = Query.objects.filter(state__in=UNRESOLVED_STATES)
    if site_id is not None:
        qs = qs.filter(participant__site_id=site_id)
    if participant_id is not None:
        qs = qs.filter(participant_id=participant_id)
    return qs.count()


def problem_still_found(query: Query, *, now: dt.datetime | None = None) -> bool:
    """Whether the query's check still finds its problem (False for a query raised by hand)."""
    if query.check_code is None:
        return False
    check = next((c for c in all_checks() if c.code == query.check_code), None)
    if check is None or check.version != query.check_version:
        return False
    scope = CheckScope(participants=Participant.objects.filter(pk=query.participant_id), now=now or timezone.now())
    keys = {target_key(check, participant_id=t.participant_id, form_id=t.form_id, item=t.item)
            for t in evaluate(check, scope)}
    return query.target_key in keys
