"""The screening specs' hooks: read the form and what the database says (the live consent and
lab result, the screening a re-screening repeats), judge them by the pure ``rules``, and keep the
computed outcome (``eligibility``, through ``services.compute_outcome``) on the screening form."""

from __future__ import annotations

from django.utils import timezone

from ecrf.crf.models import EntryStatus, Participant
from ecrf.screening.models import CentralLabResult, Consent, ConsentDecision, Eligibility, Screening
from ecrf.screening.rules import (
    ConsentEntry,
    ConsentOnRecord,
    EarlierScreening,
    LabEntry,
    ScreeningEntry,
    consent_problems,
    lab_problems,
    screening_entry_problems,
)
from ecrf.screening.services import apply_outcome, compute_outcome, live_form
from ecrf.study.services import current_protocol

_LIVE = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)


def derive_screening(form: Screening) -> None:
    """Spec hook: link a re-screening and recompute the outcome (unless fixed by randomization)."""
    number = (form.previous_screening_number or "").strip()
    form.previous_screening_number = number
    form.rescreen_of = None
    if number and form.participant_id:
        form.rescreen_of = (Participant.objects.filter(site_id=form.participant.site_id, screening_number=number)
                            .exclude(pk=form.participant_id).first())
    if form.phenotype_fixed_at is not None:
        return
    try:
        result, derived_from = compute_outcome(form)
    except (ValueError, TypeError):
        return  # an impossible value: validation reports it next to its field
    apply_outcome(form, result, derived_from)


def validate_screening(form: Screening) -> dict[str, str]:
    """Spec hook of ``screening.screening``: ``rules.screening_entry_problems``."""
    entry = ScreeningEntry(
        sepsis3_at=form.sepsis3_at, age=form.age, sofa_score_or_rise=form.sofa_score_or_rise,
        corticosteroid_mg_per_day=form.corticosteroid_mg_per_day, extra_exclusions=form.extra_exclusions,
        previous_screening_number=form.previous_screening_number or "")
    own = form.participant.screening_number if form.participant_id else None
    earlier = _earlier_screening(form, form.rescreen_of) if form.rescreen_of is not None else None
    return screening_entry_problems(entry, protocol=current_protocol(), now=timezone.now(),
                                    own_screening_number=own, earlier=earlier)


def _earlier_screening(form: Screening, earlier: Participant) -> EarlierScreening:
    earlier_form = live_form(Screening, earlier.pk)
    repeat = (Screening.objects.filter(rescreen_of=earlier, status__in=_LIVE).exclude(participant_id=form.participant_id)
              .select_related("participant").first())
    return EarlierScreening(
        screening_number=earlier.screening_number, randomized=earlier.is_randomized,
        failed=earlier_form is not None and earlier_form.eligibility == Eligibility.NOT_ELIGIBLE,
        repeated_as=repeat.participant.screening_number if repeat is not None else None)


def validate_consent(form: Consent) -> dict[str, str]:
    """Spec hook of ``screening.consent``: ``rules.consent_problems``."""
    form.form_version = (form.form_version or "").strip()
    entry = ConsentEntry(
        consent_by=form.consent_by, representative_relation=form.representative_relation, decision=form.decision,
        form_version=form.form_version, consented_at=form.consented_at, patient_decision_at=form.patient_decision_at)
    lab = live_form(CentralLabResult, form.participant_id)
    first_sample = _lab_entry(lab).first_sampled_at if lab is not None else None
    return consent_problems(entry, protocol=current_protocol(), now=timezone.now(),
                            zone=timezone.get_current_timezone(), first_lab_sample_at=first_sample)


def _lab_entry(form: CentralLabResult) -> LabEntry:
    return LabEntry(
        ferritin=form.ferritin, ferritin_sampled_at=form.ferritin_sampled_at,
        ferritin_resulted_at=form.ferritin_resulted_at, hla_dr=form.hla_dr,
        hla_dr_sampled_at=form.hla_dr_sampled_at, hla_dr_resulted_at=form.hla_dr_resulted_at)


def validate_lab_values(form: CentralLabResult) -> dict[str, str]:
    """Spec hook of ``screening.central_lab`` (entry and the CSV import): ``rules.lab_problems``."""
    consent = live_form(Consent, form.participant_id)
    on_record = (ConsentOnRecord(given=consent.decision == ConsentDecision.GIVEN, consented_at=consent.consented_at)
                 if consent is not None else None)
    return lab_problems(_lab_entry(form), protocol=current_protocol(), now=timezone.now(),
                        zone=timezone.get_current_timezone(), consent=on_record)
