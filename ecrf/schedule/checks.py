"""Building blocks of the clinical apps' edit checks (``ecrf.crf.checks``), and no check of its own.

The schedule owns study-day arithmetic (``ecrf.schedule.days``), so the SQL forms of it live here:
the calendar date of a moment in the participant's site time zone (ARCHITECTURE.md "Time": study
day 1 is the randomization date in the site's zone), the date "today" in that zone at the run's
``scope.now``, and a missing scheduled form past its visit window (``ecrf.study.visits``). Every
rule built from these stays one set-based query over ``scope.participants`` with the columns of
``ecrf.crf.checks.TARGET_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    CharField,
    DateField,
    DateTimeField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.crf.models import CRF, EntryStatus, Participant
from ecrf.outcomes.models import Death, EndOfStudy
from ecrf.screening.models import Consent, WithdrawalType
from ecrf.study.services import current_protocol
from ecrf.study.visits import visit_schedule

# Withdrawals after which no further data are collected (a withdrawal from treatment only keeps
# the follow-up going).
DATA_WITHDRAWALS = (WithdrawalType.DATA_COLLECTION, WithdrawalType.DATA_USE)
# A draft older than this is a form someone began and forgot: the data team asks for it.
DRAFT_STALE_DAYS = 7


class LocalDate(Func):
    """The calendar date of a timestamp in a time zone read per row (the site's ``time_zone``).

    Django's ``TruncDate`` takes one zone for the whole query; sites differ, so the zone is an
    expression here. PostgreSQL converts with ``AT TIME ZONE``; SQLite with the conversion function
    Django registers on every SQLite connection (the one ``TruncDate`` itself uses)."""

    arity = 2
    output_field = DateField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((%(expressions)s)::date)", arg_joiner=" AT TIME ZONE ",
                           **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="django_datetime_cast_date",
                           template="%(function)s(%(expressions)s, 'UTC')", **extra)


def site_zone(path: str = "participant__") -> F:
    """The participant's site time zone, from a CRF row (``path`` "participant__") or a
    participant row (``path`` "")."""
    return F(f"{path}site__time_zone")


def local_date(expression: str | Expression, path: str = "participant__") -> LocalDate:
    """The site-zone calendar date of a timestamp column (or expression)."""
    return LocalDate(F(expression) if isinstance(expression, str) else expression, site_zone(path))


def local_today(scope: CheckScope, path: str = "participant__", *, days_ago: int = 0) -> LocalDate:
    """The site-zone date of ``scope.now`` (minus ``days_ago`` x 24 h: within an hour of the same
    calendar shift, except across a daylight-saving change at midnight)."""
    moment = scope.now - dt.timedelta(days=days_ago)
    return LocalDate(Value(moment, output_field=DateTimeField()), site_zone(path))


def live_rows(model: type[CRF]) -> QuerySet[Any]:
    """The rows of ``model`` that are data: a retracted entry is not (for inner lookups, which
    follow the outer row's participant)."""
    return model.objects.exclude(status=EntryStatus.RETRACTED)


def live(model: type[CRF], scope: CheckScope) -> QuerySet[Any]:
    """The live rows of ``model`` of the scope's participants."""
    return live_rows(model).filter(participant__in=scope.participants)


def latest_value(model: type[CRF], field: str, **filters: Any) -> Subquery:
    """``field`` of the outer row's participant's latest live ``model`` row (with ``field`` set)."""
    return Subquery(live_rows(model).filter(participant_id=OuterRef("participant_id"), **{f"{field}__isnull": False},
                                            **filters).order_by("-pk").values(field)[:1])


def live_exists(model: type[CRF], *conditions: Q, participant: str = "participant_id", **filters: Any) -> Exists:
    """Whether the outer row's participant has a live ``model`` row matching ``conditions`` and
    ``filters``."""
    return Exists(model.objects.filter(*conditions, participant_id=OuterRef(participant), **filters)
                  .exclude(status=EntryStatus.RETRACTED))


def on_form(qs: QuerySet[Any], item: str | Expression = "") -> QuerySet[Any]:
    """Rows of a form's own table as targets: the row is the offending form."""
    item_expr = Value(item, output_field=CharField()) if isinstance(item, str) else item
    return qs.annotate(form_id=F("pk"), item=item_expr)


def dated_after_entry(model: type[CRF], scope: CheckScope, *fields: str) -> QuerySet[Any]:
    """Rows with a date in ``fields`` later than the site-zone date of the row's last write: the
    date was in the future at the site when it was entered. The hard limit
    (``ecrf.study.limits.NotInFuture``) lets through the latest date on earth (UTC+14), so that no
    site is refused its own today; a site behind that zone may so enter tomorrow."""
    later = Q(pk__in=[])
    for field in fields:
        later |= Q(**{f"{field}__gt": F("entered_on")})
    return on_form(live(model, scope).annotate(entered_on=local_date("updated_at")).filter(later))


def stale_drafts(model: type[CRF], scope: CheckScope) -> QuerySet[Any]:
    """Drafts not touched for ``DRAFT_STALE_DAYS``: a draft is not data (only submitted forms are)."""
    cutoff = scope.now - dt.timedelta(days=DRAFT_STALE_DAYS)
    return on_form(live(model, scope).filter(status=EntryStatus.DRAFT, updated_at__lt=cutoff))


def register_stale_draft_check(*, code: str, form: str, model: type[CRF], fields: tuple[str, ...], label: str) -> EditCheck:
    """The same stale-draft rule for one form (each app registers it for its own forms)."""

    def rule(scope: CheckScope) -> QuerySet[Any]:
        return stale_drafts(model, scope)

    # The catalogue names the declaring app from the rule's module (EditCheck.app): the app
    # whose form it is, not this module; the qualified name keeps re-registration a no-op.
    rule.__module__ = model.__module__.replace(".models", ".checks")
    rule.__qualname__ = f"stale_draft_{code}"
    return register_check(EditCheck(
        code=code, version=1, severity=Severity.SOFT, form=form, fields=fields, rule=rule,
        message=f"This {label} form has been a draft for more than {DRAFT_STALE_DAYS} days: complete and submit it, "
                "or retract it with a reason if it was begun in error.",
        rationale="Only submitted forms are data (endpoints, exports, reviews ignore drafts); a forgotten draft "
                  "hides data the site has."))


def _first_date(model: type[CRF], field: str, **filters: Any) -> Subquery:
    """The earliest ``field`` of the outer participant's live ``model`` rows."""
    return Subquery(live_rows(model).filter(participant_id=OuterRef("pk"), **{f"{field}__isnull": False}, **filters)
                    .order_by(field).values(field)[:1])


def overdue_missing(scope: CheckScope, *, model: type[CRF], form_key: str, day_field: str = "day",
                    days: Iterable[int] | None = None, until_death: bool = False) -> QuerySet[Any]:
    """Randomized participants of the scope lacking a live ``model`` row for a scheduled day whose
    visit window (``ecrf.study.visits``) has closed in the site's zone on ``scope.now``; ``item``
    is the earliest such day (the site enters it, the next one then becomes the item).

    No form is expected on a day after the participant withdrew from data collection (or from the
    use of data) or after the end-of-study date. With ``until_death``, days on or after the day of
    a recorded death are not expected either (SAP: from the day of death on, a SOFA day counts 24
    without a form)."""
    protocol = current_protocol()
    whens = []
    for visit in visit_schedule(protocol):
        if visit.day is None or form_key not in visit.forms or (days is not None and visit.day not in set(days)):
            continue
        closed = Q(day1__lt=local_today(scope, "", days_ago=visit.day - 1 + visit.window_after_days))
        present = live_exists(model, participant="pk", **{day_field: visit.day})
        # The visit day's date: 24 h steps from randomization (within an hour of the calendar
        # step, except for a randomization within an hour of midnight across a daylight-saving change).
        on = local_date(ExpressionWrapper(F("randomized_at") + Value(dt.timedelta(days=visit.day - 1)),
                                          output_field=DateTimeField()), "")
        followed = ((Q(data_withdrawn_on__isnull=True) | Q(data_withdrawn_on__gte=on))
                    & (Q(ended_on__isnull=True) | Q(ended_on__gte=on)))
        condition = closed & Q(~present) & followed
        if until_death:
            condition &= Q(~live_exists(Death, participant="pk", study_day__lte=visit.day))
        whens.append(When(condition, then=Value(str(visit.day))))
    item = Case(*whens, default=Value(None), output_field=CharField())
    return (Participant.objects.filter(pk__in=scope.participants.values("pk"), randomized_at__isnull=False)
            .annotate(day1=local_date("randomized_at", ""),
                      data_withdrawn_on=_first_date(Consent, "withdrawn_on", withdrawal_type__in=DATA_WITHDRAWALS),
                      ended_on=_first_date(EndOfStudy, "disposition_date"))
            .annotate(participant_id=F("pk"), form_id=Value(None, output_field=IntegerField()), item=item)
            .filter(item__isnull=False))
