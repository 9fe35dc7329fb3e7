"""Safety reads, scoped by site and blinded by construction.

Blinded readers (everyone but pharmacovigilance) see a SUSAR clock only as "potential SUSAR"
while the case is open and "closed" once pharmacovigilance has decided, never which way; clocks
that exist only because the case was a SUSAR live in pharmacovigilance's own table (``PvClock``)
and are read for pharmacovigilance only. Ordering and counts are computed from the blinded rows,
which are the same whichever way a case was decided, so they reveal nothing either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from ecrf.accounts.roles import Role, user_roles
from ecrf.core.errors import forbidden, not_found
from ecrf.crf.selectors import form_get, forms_for, participants_for
from ecrf.study.services import current_protocol
from safety import clocks as clockmath
from safety.clocks import CLOCK_LABELS
from safety.models import (
    Adjudication,
    AdjudicationReview,
    AdjudicationStatus,
    AdverseEvent,
    CaseStatus,
    Clock,
    ClockVisibility,
    ExpeditedAssessment,
    PvClock,
    SAEReport,
)
from safety.services.adjudication import review_access_denied
from safety.specs import AE_SPEC

if TYPE_CHECKING:
    from ecrf.accounts.models import User
    from django.http import HttpRequest

BOARD_ROLES = frozenset({Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE})
STATE_LABELS = {"running": "Running", "due_soon": "Due soon", "overdue": "Overdue", "met": "Met", "met_late": "Met late",
                "closed": "Closed", "potential_susar": "Potential SUSAR"}
STATE_ORDER = {"overdue": 0, "due_soon": 1, "running": 2, "potential_susar": 2, "met_late": 3, "met": 4, "closed": 5}


def is_pv(user: User) -> bool:
    return Role.PHARMACOVIGILANCE in user_roles(user)


def adverse_events_for(user: User) -> QuerySet[AdverseEvent]:
    return forms_for(user, AE_SPEC)


def adverse_event_get(user: User, pk: Any) -> AdverseEvent:
    return form_get(user, AE_SPEC, pk)


@dataclass(frozen=True)
class ClockRow:
    clock: Clock | PvClock
    label: str
    state: str  # time state shown (running/due_soon/overdue/met/met_late/closed)
    state_label: str
    masked: bool
    seconds_left: int | None  # for the live countdown; None once met or closed

    @property
    def ae(self) -> AdverseEvent:
        return self.clock.adverse_event


def clock_row(clock: Clock | PvClock, *, now: dt.datetime, pv: bool, case_status: str | None, fraction: Decimal) -> ClockRow | None:
    if clock.visibility == ClockVisibility.PV_ONLY and not pv:
        return None
    label = CLOCK_LABELS[clockmath.ClockKind(clock.kind)]
    masked = clock.visibility == ClockVisibility.MASKED and not pv
    if masked and case_status == CaseStatus.CLOSED:
        return ClockRow(clock, label, "closed", STATE_LABELS["closed"], True, None)
    if clock.closed_at is not None:
        return ClockRow(clock, label, "closed", STATE_LABELS["closed"], masked, None)
    state = clockmath.clock_state(started_at=clock.started_at, due_at=clock.due_at, now=now, met_at=clock.met_at,
                                  due_soon_fraction=fraction).value
    # An undecided potential SUSAR's time state is the same whatever the arm (nobody knows it yet).
    shown = f"Potential SUSAR · {STATE_LABELS[state]}" if masked else STATE_LABELS[state]
    left = int((clock.due_at - now).total_seconds()) if clock.met_at is None else None
    return ClockRow(clock, label, state, shown, masked, left)


def _case_statuses(ae_ids: set[int]) -> dict[int, str]:
    return dict(ExpeditedAssessment.objects.filter(adverse_event_id__in=ae_ids).values_list("adverse_event_id", "status"))


def clocks_for_board(user: User, *, now: dt.datetime | None = None, include_done: bool = False) -> list[ClockRow]:
    """The clock board: overdue first, then due soon, then running; a fixed three queries.

    Safety officers see every SAE clock and masked SUSAR clocks; pharmacovigilance sees the
    SUSAR clocks with their real state."""
    roles = user_roles(user)
    if not roles & BOARD_ROLES:
        raise forbidden("Only safety officers and pharmacovigilance see the clock board.")
    now = now or timezone.now()
    pv = Role.PHARMACOVIGILANCE in roles
    qs = Clock.objects.select_related("adverse_event__participant__site")
    if pv and Role.SAFETY_OFFICER not in roles:
        qs = qs.exclude(visibility=ClockVisibility.OPEN)
    if not include_done:
        qs = qs.filter(met_at__isnull=True, closed_at__isnull=True)
    clocks: list[Clock | PvClock] = list(qs.order_by("due_at", "pk"))
    if pv:
        clocks += PvClock.objects.select_related("adverse_event__participant__site").filter(
            **({} if include_done else {"met_at__isnull": True, "closed_at__isnull": True})).order_by("due_at", "pk")
    statuses = _case_statuses({c.adverse_event_id for c in clocks})
    fraction = current_protocol().clock_due_soon_fraction
    rows = [r for c in clocks if (r := clock_row(c, now=now, pv=pv, case_status=statuses.get(c.adverse_event_id),
                                                 fraction=fraction)) is not None]
    if not include_done:
        rows = [r for r in rows if r.state != "closed"]
    return sorted(rows, key=lambda r: (STATE_ORDER[r.state], r.clock.due_at, isinstance(r.clock, PvClock), r.clock.pk))


def clocks_for_ae(user: User, ae: AdverseEvent, *, now: dt.datetime | None = None) -> list[ClockRow]:
    """The AE's clocks; SUSAR-candidate clocks only for safety officers and pharmacovigilance
    (sponsor -> authority deadlines are not the site's), as in the clocks API."""
    now = now or timezone.now()
    pv = is_pv(user)
    status = _case_statuses({ae.pk}).get(ae.pk)
    fraction = current_protocol().clock_due_soon_fraction
    clocks = ae.clocks.order_by("started_at", "pk")
    if not user_roles(user) & BOARD_ROLES:
        clocks = clocks.filter(kind__in=OPEN_KINDS)
    everything: list[Clock | PvClock] = list(clocks)
    if pv:
        everything += ae.pv_clocks.order_by("started_at", "pk")
    rows = [clock_row(c, now=now, pv=pv, case_status=status, fraction=fraction) for c in everything]
    return [r for r in rows if r is not None]


# --- the clocks API: state computed in the database, so it filters, orders and paginates ------

OPEN_KINDS = (clockmath.ClockKind.SAE_INITIAL.value, clockmath.ClockKind.SAE_FOLLOWUP.value)
CLOCK_READ_ROLES = frozenset(AE_SPEC.read_roles) | {Role.PHARMACOVIGILANCE}
CLOCK_STATES = ("overdue", "due_soon", "running", "met_late", "met", "closed")


def clock_state_expression(now: dt.datetime, *, pv: bool) -> Case:
    """The state a reader sees, as SQL; the same answer as ``clock_row`` (tested). For blinded
    readers a SUSAR clock of a decided case is "closed" whichever way it was decided."""
    whens = [When(closed_at__isnull=False, then=Value("closed"))]
    if not pv:
        whens.append(When(visibility=ClockVisibility.MASKED, adverse_event__assessment__status=CaseStatus.CLOSED,
                          then=Value("closed")))
    whens += [
        When(met_at__isnull=False, met_at__lt=F("due_at"), then=Value("met")),
        When(met_at__isnull=False, then=Value("met_late")),
        When(due_at__lte=now, then=Value("overdue")),
        When(due_soon_at__lte=now, then=Value("due_soon")),
    ]
    return Case(*whens, default=Value("running"))


def clocks_for(user: User, *, now: dt.datetime | None = None) -> QuerySet[Clock]:
    """Clocks the user may see, annotated with ``shown_state``, ``state_rank`` and
    ``case_status`` (and ``pv_outcome`` for pharmacovigilance only), overdue first.

    Site staff, monitors and data managers: the SAE clocks of the participants they see.
    Safety officers: every SAE clock and the SUSAR-candidate clocks, masked. Pharmacovigilance:
    the SUSAR-candidate clocks with their real state. Nobody else."""
    roles = user_roles(user)
    if not roles & CLOCK_READ_ROLES:
        raise forbidden("Your role does not see reporting clocks.")
    now = now or timezone.now()
    pv = Role.PHARMACOVIGILANCE in roles
    qs = Clock.objects.select_related("adverse_event__participant__site")
    if Role.SAFETY_OFFICER in roles or pv:
        if not pv:
            qs = qs.exclude(visibility=ClockVisibility.PV_ONLY)
        elif Role.SAFETY_OFFICER not in roles:
            qs = qs.exclude(visibility=ClockVisibility.OPEN)
    else:
        visible = participants_for(user, AE_SPEC.read_roles).values("pk")
        qs = qs.filter(adverse_event__participant__in=visible, kind__in=OPEN_KINDS, visibility=ClockVisibility.OPEN)
    state = clock_state_expression(now, pv=pv)
    rank = Case(*[When(shown_state=s, then=Value(i)) for i, s in enumerate(CLOCK_STATES)], output_field=IntegerField())
    qs = qs.annotate(shown_state=state, case_status=F("adverse_event__assessment__status")).annotate(state_rank=rank)
    if pv:
        qs = qs.annotate(pv_outcome=F("adverse_event__assessment__pv_outcome"))
    return qs.order_by("state_rank", "due_at", "pk")


def clock_get(user: User, pk: Any, *, now: dt.datetime | None = None) -> Clock:
    try:
        return clocks_for(user, now=now).get(pk=int(pk))
    except (Clock.DoesNotExist, TypeError, ValueError):
        raise not_found("clock") from None


def sae_reports_for(user: User) -> QuerySet[SAEReport]:
    """SAE reports of the adverse events the user sees (site-scoped like the AE pages)."""
    if not user_roles(user) & AE_SPEC.read_roles:
        raise forbidden("Your role does not read SAE reports.")
    return (SAEReport.objects.filter(adverse_event__in=adverse_events_for(user).values("pk"))
            .select_related("adverse_event__participant__site"))


def sae_report_get(user: User, pk: Any) -> SAEReport:
    try:
        return sae_reports_for(user).get(pk=int(pk))
    except (SAEReport.DoesNotExist, TypeError, ValueError):
        raise not_found("SAE report") from None


def case_status_label(user: User, assessment: ExpeditedAssessment | None) -> str:
    """What a reader may know of the expedited-reporting decision."""
    if assessment is None:
        return "Not assessed"
    if assessment.status == CaseStatus.CLOSED and is_pv(user):
        return f"Closed: {assessment.get_pv_outcome_display()}"
    return assessment.get_status_display()


def cases_for_pv(user: User) -> QuerySet[ExpeditedAssessment]:
    if not is_pv(user):
        raise forbidden("Only pharmacovigilance works on potential SUSARs.")
    return (ExpeditedAssessment.objects.exclude(status=CaseStatus.NOT_CANDIDATE)
            .select_related("adverse_event__participant__site").order_by("status", "sponsor_aware_at"))


def case_get(user: User, pk: Any) -> ExpeditedAssessment:
    try:
        return cases_for_pv(user).get(pk=int(pk))
    except (ExpeditedAssessment.DoesNotExist, TypeError, ValueError):
        raise not_found("case") from None


def assessment_candidates(user: User) -> QuerySet[AdverseEvent]:
    """Submitted serious AEs not yet assessed for expectedness (safety officers)."""
    if Role.SAFETY_OFFICER not in user_roles(user):
        raise forbidden("Only safety officers assess expectedness.")
    return (AdverseEvent.objects.filter(status="submitted", serious=True, assessment__isnull=True)
            .exclude(exemption__gt="").select_related("participant__site").order_by("aware_at"))


# --- adjudication ---------------------------------------------------------------------------


def _require_reviewer(user: User) -> None:
    if Role.SAFETY_OFFICER not in user_roles(user):
        raise forbidden("Only safety officers adjudicate.")


def adjudication_queue(user: User) -> QuerySet[Adjudication]:
    """Events waiting for this reviewer: open ones with fewer than two reviews this round, and
    disagreements waiting for a third reviewer; never those this reviewer already reviewed.
    One query (a queryset, so the API paginates it)."""
    _require_reviewer(user)
    mine = AdjudicationReview.objects.filter(adjudication=OuterRef("pk"), round=OuterRef("round"), reviewer=user)
    return (Adjudication.objects.exclude(status=AdjudicationStatus.FINAL)
            .select_related("adverse_event__participant__site")
            .annotate(n=Count("reviews", filter=Q(reviews__round=F("round"))), mine=Exists(mine))
            .filter(mine=False)
            .filter(Q(status=AdjudicationStatus.THIRD_REVIEW) | Q(n__lt=2))
            .order_by("created_at", "pk"))


def adjudication_get(user: User, pk: Any) -> Adjudication:
    _require_reviewer(user)
    try:
        return Adjudication.objects.select_related("adverse_event__participant__site").get(pk=int(pk))
    except (Adjudication.DoesNotExist, TypeError, ValueError):
        raise not_found("adjudication") from None


def reviews_visible(user: User, adj: Adjudication) -> list[AdjudicationReview]:
    """A reviewer sees their own review; the others only once the adjudication is final."""
    reviews = list(adj.reviews.filter(round=adj.round).select_related("reviewer"))
    if adj.status == AdjudicationStatus.FINAL:
        return reviews
    return [r for r in reviews if r.reviewer_id == user.pk]


def review_get(user: User, adj: Adjudication, review_id: Any, request: HttpRequest | None = None) -> AdjudicationReview:
    try:
        review = adj.reviews.select_related("reviewer").get(pk=int(review_id))
    except (AdjudicationReview.DoesNotExist, TypeError, ValueError):
        raise not_found("review") from None
    if review.reviewer_id != user.pk and not (adj.status == AdjudicationStatus.FINAL and review.round == adj.round):
        raise review_access_denied(actor=user, review_id=review.pk, request=request)
    return review
