"""The expedited-reporting decision (safety.md, steps 2-3): the blinded expectedness assessment,
pharmacovigilance's single-case unblinding and decision, and the SUSAR report to the authority."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ecrf.accounts.roles import Role, require_role
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.crf.models import EntryStatus
from safety import links
from safety.clocks import SUSAR_KINDS, ClockKind
from safety.errors import SafetyError
from safety.models import (
    CAUSALITY_RANK,
    RELATED,
    AdverseEvent,
    CaseStatus,
    Causality,
    ClockVisibility,
    ExpeditedAssessment,
    PvClock,
    PvOutcome,
    PvSubmission,
)
from safety.services.common import clock_meet, clock_start, clocks_close, pv_clock_start, save_audited, submission_check

if TYPE_CHECKING:
    from ecrf.accounts.models import User

DECIDED = "Potential SUSAR closed"  # the same words either way: the blinded history shows this only


def _check_upgrade(field: str, investigator: str, sponsor: str, route: str) -> None:
    """safety.md: the sponsor may upgrade, never downgrade, the investigator's causality."""
    if sponsor and investigator and CAUSALITY_RANK[Causality(sponsor)] < CAUSALITY_RANK[Causality(investigator)]:
        raise DomainError(
            ErrorCode.INVALID,
            f"The sponsor may upgrade but never downgrade the investigator's causality to the {route} study drug "
            f"({Causality(investigator).label}).",
            fields={field: f"Cannot be weaker than the investigator's '{Causality(investigator).label}'."},
        )


@transaction.atomic
def assessment_record(*, actor: User, ae: AdverseEvent, expected: bool | None, rsi_reference: str,
                      sponsor_aware_at: dt.datetime | None, sponsor_causality_iv: str = "",
                      sponsor_causality_sc: str = "") -> ExpeditedAssessment:
    """Step 2-3: the blinded expectedness assessment; a related and unexpected case becomes a
    potential SUSAR and its 7- or 15-day clock starts from the recorded sponsor awareness."""
    require_role(actor, {Role.SAFETY_OFFICER}, "assess expectedness")
    ae = AdverseEvent.objects.select_for_update(of=("self",)).select_related("participant__site").get(pk=ae.pk)
    if ae.status != EntryStatus.SUBMITTED or not ae.serious:
        raise DomainError(SafetyError.ASSESSMENT_NEEDS_SUBMITTED_SERIOUS_AE,
                          "Expectedness is assessed for submitted serious adverse events only.")
    if ExpeditedAssessment.objects.select_for_update().filter(adverse_event=ae).exists():
        raise DomainError(SafetyError.ALREADY_ASSESSED, "This event has already been assessed.")
    errors: dict[str, str] = {}
    for name, value in (("sponsor_causality_iv", sponsor_causality_iv), ("sponsor_causality_sc", sponsor_causality_sc)):
        if value and value not in Causality.values:
            errors[name] = f"{value!r} is not a WHO-UMC category."
    if expected is None:
        errors["expected"] = "Say whether the event is expected under the reference safety information."
    if not (rsi_reference or "").strip():
        errors["rsi_reference"] = "Name the reference safety information used (document and version)."
    if sponsor_aware_at is None:
        errors["sponsor_aware_at"] = "Give the time the sponsor became aware."
    elif sponsor_aware_at < ae.aware_at:
        errors["sponsor_aware_at"] = "The sponsor cannot become aware before the investigator did."
    elif sponsor_aware_at > timezone.now() + dt.timedelta(minutes=5):
        errors["sponsor_aware_at"] = "The sponsor awareness is in the future."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    assert sponsor_aware_at is not None  # checked above
    _check_upgrade("sponsor_causality_iv", ae.causality_iv, sponsor_causality_iv, "IV")
    _check_upgrade("sponsor_causality_sc", ae.causality_sc, sponsor_causality_sc, "SC")
    product = links.possible_product(ae.participant)
    if product is None:
        raise DomainError(SafetyError.PHENOTYPE_UNKNOWN,
                          "The participant's phenotype is not known, so the product to assess against cannot be named.")
    name, route = product
    investigator = ae.causality_iv if route == "iv" else ae.causality_sc
    sponsor = sponsor_causality_iv if route == "iv" else sponsor_causality_sc
    related = investigator in RELATED or sponsor in RELATED
    potential = related and not expected
    assessment = ExpeditedAssessment(
        adverse_event=ae, product=name, route=route, sponsor_causality_iv=sponsor_causality_iv,
        sponsor_causality_sc=sponsor_causality_sc, related=related, expected=bool(expected),
        rsi_reference=rsi_reference.strip(), sponsor_aware_at=sponsor_aware_at, assessed_by=actor,
        status=CaseStatus.POTENTIAL_SUSAR if potential else CaseStatus.NOT_CANDIDATE,
    )
    save_audited(assessment, actor, "Expectedness assessed (blinded)")
    if potential:
        if ae.fatal_or_life_threatening:
            clock_start(ae=ae, kind=ClockKind.SUSAR_FATAL, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR (fatal or life-threatening)")
            clock_start(ae=ae, kind=ClockKind.SUSAR_FATAL_FOLLOWUP, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR follow-up")
        else:
            clock_start(ae=ae, kind=ClockKind.SUSAR_OTHER, started_at=sponsor_aware_at, actor=actor,
                        visibility=ClockVisibility.MASKED, reason="Potential SUSAR")
    return assessment


@transaction.atomic
def susar_unblind_and_decide(*, actor: User, assessment: ExpeditedAssessment, reason: str, password: str,
                             request: HttpRequest | None = None) -> ExpeditedAssessment:
    """Step 3: pharmacovigilance unblinds this one case (re-authenticated, reasoned, audited by
    ``reveal_for_susar``): active -> a SUSAR, to report; placebo -> closed, not a SUSAR.

    Every blinded row changes the same way whichever the arm: the assessment is closed and its
    masked clocks are closed with the same reason. A SUSAR's clocks continue in
    pharmacovigilance's own table (``PvClock``), which takes nothing a blinded reader sees."""
    require_role(actor, {Role.PHARMACOVIGILANCE}, "unblind a potential SUSAR")
    assessment = ExpeditedAssessment.objects.select_for_update(of=("self",)).select_related("adverse_event__participant").get(pk=assessment.pk)
    if assessment.status != CaseStatus.POTENTIAL_SUSAR:
        raise DomainError(SafetyError.CASE_NOT_OPEN, "Only an open potential SUSAR is unblinded and decided.")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("Give the reason for unblinding this case.", reason="A reason is required.")
    ae = assessment.adverse_event
    arm = links.reveal_for_susar(actor=actor, participant=ae.participant, reason=reason, password=password, request=request)
    if arm not in ("active", "placebo"):
        raise DomainError(SafetyError.UNBLINDING_NO_ANSWER, "The unblinding service gave no usable answer.")
    assessment.pv_outcome = PvOutcome.SUSAR if arm == "active" else PvOutcome.NOT_SUSAR
    assessment.status = CaseStatus.CLOSED
    assessment.decided_by = actor
    assessment.decided_at = timezone.now()
    assessment.version += 1
    save_audited(assessment, actor, DECIDED)
    masked = [c for c in ae.clocks.select_for_update().filter(kind__in=SUSAR_KINDS).order_by("pk") if c.is_open]
    clocks_close(masked, actor, DECIDED)
    if assessment.pv_outcome == PvOutcome.SUSAR:
        for clock in masked:
            pv_clock_start(ae=ae, kind=ClockKind(clock.kind), started_at=clock.started_at, actor=actor, continues=clock,
                           reason="Decided a SUSAR: to report to the authority")
    return assessment


@transaction.atomic
def susar_report_submit(*, actor: User, clock: PvClock, submitted_at: dt.datetime | None, recipient: str,
                        reference: str) -> PvSubmission:
    """Pharmacovigilance records the SUSAR report sent to the authority; meets its clock."""
    require_role(actor, {Role.PHARMACOVIGILANCE}, "report SUSARs")
    clock = PvClock.objects.select_for_update(of=("self",)).select_related("adverse_event").get(pk=clock.pk)
    assessment = ExpeditedAssessment.objects.filter(adverse_event=clock.adverse_event).first()
    if assessment is None or assessment.pv_outcome != PvOutcome.SUSAR:
        raise DomainError(SafetyError.NOT_A_DECIDED_SUSAR_CLOCK, "Only a decided SUSAR's clock is met by an authority report.")
    if not clock.is_open:
        raise DomainError(SafetyError.CLOCK_ALREADY_MET, "This clock is already met.")
    recipient, reference = submission_check(submitted_at=submitted_at, recipient=recipient, reference=reference,
                                            aware_at=clock.started_at, aware_label="the sponsor became aware")
    assert submitted_at is not None  # checked above
    late = clock_meet(clock, submitted_at, actor)
    submission = PvSubmission(clock=clock, submitted_at=submitted_at, submitted_by=actor, recipient=recipient,
                              reference=reference, late=late)
    save_audited(submission, actor, "SUSAR report recorded")
    return submission
