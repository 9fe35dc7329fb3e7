"""Safety reads, scoped by site and blinded by construction.

Blinded readers (everyone but pharmacovigilance) see a SUSAR clock only as "potential SUSAR"
while the case is open and "closed" once pharmacovigilance has decided, never which way; clocks
that exist only because the case was a SUSAR are not shown to them at all. Ordering and counts
are computed from these masked rows, so they reveal nothing either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ecrf.accounts.roles import Role, user_roles
from ecrf.core.errors import forbidden, not_found
from ecrf.crf.selectors import form_get, forms_for
from ecrf.study.services import current_protocol
from safety import clocks as clockmath
from safety.models import (
    Adjudication,
    AdjudicationReview,
    AdjudicationStatus,
    AdverseEvent,
    CaseStatus,
    Clock,
    ClockVisibility,
    ExpeditedAssessment,
)
from safety.specs import AE_SPEC

BOARD_ROLES = frozenset({Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE})
STATE_LABELS = {"running": "Running", "due_soon": "Due soon", "overdue": "Overdue", "met": "Met", "met_late": "Met late",
                "closed": "Closed", "potential_susar": "Potential SUSAR"}
STATE_ORDER = {"overdue": 0, "due_soon": 1, "running": 2, "potential_susar": 2, "met_late": 3, "met": 4, "closed": 5}


def is_pv(user: Any) -> bool:
    return Role.PHARMACOVIGILANCE in user_roles(user)


def adverse_events_for(user: Any) -> QuerySet[AdverseEvent]:
    return forms_for(user, AE_SPEC)


def adverse_event_get(user: Any, pk: Any) -> AdverseEvent:
    return form_get(user, AE_SPEC, pk)


@dataclass(frozen=True)
class ClockRow:
    clock: Clock
    label: str
    state: str  # time state shown (running/due_soon/overdue/met/met_late/closed)
    state_label: str
    masked: bool
    seconds_left: int | None  # for the live countdown; None once met or closed

    @property
    def ae(self) -> AdverseEvent:
        return self.clock.adverse_event


def clock_row(clock: Clock, *, now: dt.datetime, pv: bool, case_status: str | None, fraction: Decimal) -> ClockRow | None:
    from safety.services import CLOCK_LABELS

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


def clocks_for_board(user: Any, *, now: dt.datetime | None = None, include_done: bool = False) -> list[ClockRow]:
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
    clocks = list(qs.order_by("due_at", "pk"))
    statuses = _case_statuses({c.adverse_event_id for c in clocks})
    fraction = current_protocol().clock_due_soon_fraction
    rows = [r for c in clocks if (r := clock_row(c, now=now, pv=pv, case_status=statuses.get(c.adverse_event_id),
                                                 fraction=fraction)) is not None]
    if not include_done:
        rows = [r for r in rows if r.state != "closed"]
    return sorted(rows, key=lambda r: (STATE_ORDER[r.state], r.clock.due_at, r.clock.pk))


def clocks_for_ae(user: Any, ae: AdverseEvent, *, now: dt.datetime | None = None) -> list[ClockRow]:
    now = now or timezone.now()
    pv = is_pv(user)
    status = _case_statuses({ae.pk}).get(ae.pk)
    fraction = current_protocol().clock_due_soon_fraction
    rows = [clock_row(c, now=now, pv=pv, case_status=status, fraction=fraction) for c in ae.clocks.order_by("started_at", "pk")]
    return [r for r in rows if r is not None]


def case_status_label(user: Any, assessment: ExpeditedAssessment | None) -> str:
    """What a reader may know of the expedited-reporting decision."""
    if assessment is None:
        return "Not assessed"
    if assessment.status == CaseStatus.CLOSED and is_pv(user):
        return f"Closed: {assessment.get_pv_outcome_display()}"
    return assessment.get_status_display()


def cases_for_pv(user: Any) -> QuerySet[ExpeditedAssessment]:
    if not is_pv(user):
        raise forbidden("Only pharmacovigilance works on potential SUSARs.")
    return (ExpeditedAssessment.objects.exclude(status=CaseStatus.NOT_CANDIDATE)
            .select_related("adverse_event__participant__site").order_by("status", "sponsor_aware_at"))


def case_get(user: Any, pk: Any) -> ExpeditedAssessment:
    try:
        return cases_for_pv(user).get(pk=int(pk))
    except (ExpeditedAssessment.DoesNotExist, TypeError, ValueError):
        raise not_found("case") from None


def assessment_candidates(user: Any) -> QuerySet[AdverseEvent]:
    """Submitted serious AEs not yet assessed for expectedness (safety officers)."""
    if Role.SAFETY_OFFICER not in user_roles(user):
        raise forbidden("Only safety officers assess expectedness.")
    return (AdverseEvent.objects.filter(status="submitted", serious=True, assessment__isnull=True)
            .exclude(exemption__gt="").select_related("participant__site").order_by("aware_at"))


# --- adjudication ---------------------------------------------------------------------------


def _require_reviewer(user: Any) -> None:
    if Role.SAFETY_OFFICER not in user_roles(user):
        raise forbidden("Only safety officers adjudicate.")


def adjudication_queue(user: Any) -> list[Adjudication]:
    """Events waiting for this reviewer: open ones with fewer than two reviews this round, and
    disagreements waiting for a third reviewer; never those this reviewer already reviewed."""
    _require_reviewer(user)
    qs = (Adjudication.objects.exclude(status=AdjudicationStatus.FINAL)
          .select_related("adverse_event__participant__site")
          .annotate(n=Count("reviews", filter=Q(reviews__round=models_round())))
          .order_by("created_at", "pk"))
    mine = set(AdjudicationReview.objects.filter(reviewer=user).values_list("adjudication_id", "round"))
    out = []
    for adj in qs:
        if (adj.pk, adj.round) in mine:
            continue
        if adj.status == AdjudicationStatus.OPEN and adj.n >= 2:
            continue
        out.append(adj)
    return out


def models_round():  # noqa: ANN201
    from django.db.models import F

    return F("round")


def adjudication_get(user: Any, pk: Any) -> Adjudication:
    _require_reviewer(user)
    try:
        return Adjudication.objects.select_related("adverse_event__participant__site").get(pk=int(pk))
    except (Adjudication.DoesNotExist, TypeError, ValueError):
        raise not_found("adjudication") from None


def reviews_visible(user: Any, adj: Adjudication) -> list[AdjudicationReview]:
    """A reviewer sees their own review; the others only once the adjudication is final."""
    reviews = list(adj.reviews.filter(round=adj.round).select_related("reviewer"))
    if adj.status == AdjudicationStatus.FINAL:
        return reviews
    return [r for r in reviews if r.reviewer_id == user.pk]


def review_get(user: Any, adj: Adjudication, review_id: Any, request: Any = None) -> AdjudicationReview:
    from safety.services import review_access_denied

    try:
        review = adj.reviews.select_related("reviewer").get(pk=int(review_id))
    except (AdjudicationReview.DoesNotExist, TypeError, ValueError):
        raise not_found("review") from None
    if review.reviewer_id != user.pk and not (adj.status == AdjudicationStatus.FINAL and review.round == adj.round):
        raise review_access_denied(actor=user, review_id=review.pk, request=request)
    return review
