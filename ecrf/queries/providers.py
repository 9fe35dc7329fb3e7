"""The queries app's entries in the registries of the floors below it (ARCHITECTURE.md
"Registries"): notes beside the fields of a form page, the casebook's "queried" state, the
study-lock gate's open-query condition and the home page's tasks. Each costs a fixed number of
queries and shows only what the viewer may see."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ecrf.accounts.roles import Role, user_roles
from ecrf.core.home import Task, register_provider
from ecrf.crf.registry import spec_for_model
from ecrf.crf.annotations import ALL_FIELDS, FieldNote, register_field_notes
from ecrf.queries.models import UNRESOLVED_STATES, Query, QueryState
from ecrf.queries.selectors import (
    SITE_ANSWER_ROLES,
    can_work_with_queries,
    is_data_team,
    queries_for,
    unresolved_by_participant,
)
from ecrf.review.gate import Blocker, register_blocker
from ecrf.schedule.selectors import register_state_provider

OPEN_QUERIES = "open_queries"


@register_field_notes
def query_notes(user: Any, form: Any) -> dict[str, list[FieldNote]]:
    """Unresolved queries on this form, beside the field each concerns (or the whole form)."""
    if not can_work_with_queries(user):
        return {}
    ct = ContentType.objects.get_for_model(type(form))
    notes: dict[str, list[FieldNote]] = {}
    for q in queries_for(user).filter(form_type=ct, form_id=form.pk, state__in=UNRESOLVED_STATES).order_by("pk"):
        label = _("Draft query") if q.is_draft else (_("Answered query") if q.state == QueryState.ANSWERED
                                                    else _("Open query"))
        notes.setdefault(q.field or ALL_FIELDS, []).append(FieldNote(
            kind="query", text=f"{label} #{q.pk}: {q.text}", url=reverse("queries:detail", args=[q.pk]),
            tone="warning" if q.state == QueryState.OPEN else "info"))
    spec = spec_for_model(type(form))
    if is_data_team(user) and spec is not None:
        notes.setdefault(ALL_FIELDS, []).append(FieldNote(
            kind="raise-query", text=_("Raise a query on this form"),
            url=reverse("queries:raise", kwargs={"slug": spec.slug, "form_id": form.pk})))
    return notes


@register_state_provider
def queried_entries(participants: list[Any], entries: list[Any]) -> dict[tuple[int, int], set[str]]:
    """"queried" on the casebook cells of entries with an unresolved query the site can see
    (released: the grid is the site's too, so a draft never shows there). One query whatever the
    number of participants, also for participants with no entry yet (the schedule's cost does
    not depend on what is entered)."""
    rows = (Query.objects.filter(participant_id__in=[p.pk for p in participants], state__in=UNRESOLVED_STATES,
                                 released_at__isnull=False,
                                 form_id__isnull=False)
            .values_list("form_type_id", "form_id").distinct())
    return {(ct, pk): {"queried"} for ct, pk in rows}


@register_blocker
def open_query_blockers(site_id: Any) -> list[Blocker]:
    """Every open or answered query blocks the lock, drafts included: an unreleased draft is an
    unresolved question about the data too (release, close or cancel it first). One blocker per
    participant, in one query."""
    url = reverse("queries:inbox")
    out = []
    for row in unresolved_by_participant(site_id=site_id):
        label = row["participant__subject_id"] or row["participant__screening_number"]
        out.append(Blocker(condition=OPEN_QUERIES, participant_id=row["participant_id"],
                           message=ngettext("%(p)s has %(n)d unresolved query (open, answered or draft).",
                                            "%(p)s has %(n)d unresolved queries (open, answered or draft).", row["n"])
                           % {"p": label, "n": row["n"]},
                           url=f"{url}?participant={row['participant_id']}"))
    return out


@register_provider
def query_tasks(user: Any) -> list[Task]:
    """Site staff: released queries to answer. Data team: answered queries to close, drafts to release."""
    roles = user_roles(user)
    if not can_work_with_queries(user):
        return []
    counts = queries_for(user).aggregate(
        open=Count("pk", filter=Q(state=QueryState.OPEN, released_at__isnull=False)),
        answered=Count("pk", filter=Q(state=QueryState.ANSWERED)),
        drafts=Count("pk", filter=Q(state__in=UNRESOLVED_STATES, released_at__isnull=True)))
    tasks = []
    if roles & SITE_ANSWER_ROLES and counts["open"]:
        tasks.append(Task(title=_("Answer queries"), detail=_("Queries from the data team wait for your answer."),
                          url=reverse("queries:site-list"), count=counts["open"]))
    if roles & {Role.DATA_MANAGER, Role.MONITOR}:
        if counts["answered"]:
            tasks.append(Task(title=_("Review answered queries"), detail=_("The site answered; close or reopen them."),
                              url=reverse("queries:inbox") + "?state=answered", count=counts["answered"]))
        if counts["drafts"]:
            tasks.append(Task(title=_("Release draft queries"), detail=_("Drafts the site cannot see yet."),
                              url=reverse("queries:inbox") + "?draft=yes", count=counts["drafts"]))
    return tasks
