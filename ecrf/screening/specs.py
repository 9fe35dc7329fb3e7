"""The three screening CRFs: the screening-log entry, consent, and the central lab's sample.

Keys match ``ecrf.study.visits`` (the screening visit's forms). The hooks validate the domain
rules and keep the computed outcome on the screening form up to date (``services``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, Role
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.registry import FormSpec, register
from ecrf.screening import services
from ecrf.screening.models import (
    EXCLUSION_COLUMNS,
    CentralLabResult,
    Consent,
    ConsentBy,
    ConsentDecision,
    Eligibility,
    Screening,
)
from ecrf.study.services import current_protocol

_LIVE = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)


def _fmt(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


# --- screening ----------------------------------------------------------------------------------


def _validate_screening(form: Screening) -> dict[str, str]:
    errors: dict[str, str] = {}
    protocol = current_protocol()
    if form.sepsis3_at is not None and form.sepsis3_at > timezone.now():
        errors["sepsis3_at"] = "The Sepsis-3 classification can't be in the future."
    if form.age is not None and form.age > 120:
        errors["age"] = "An age above 120 years is not possible."
    if form.sofa_score_or_rise is not None and form.sofa_score_or_rise > 24:
        errors["sofa_score_or_rise"] = "SOFA is at most 24."
    if form.corticosteroid_mg_per_day is not None and form.corticosteroid_mg_per_day < 0:
        errors["corticosteroid_mg_per_day"] = "The corticosteroid dose can't be negative; 0 if none."
    extra = form.extra_exclusions
    known = {code for code, _ in services.extra_criteria(protocol)}
    if not isinstance(extra, dict):
        errors["extra_exclusions"] = "Give the further exclusion criteria as {code: true/false/null}."
    else:
        unknown = sorted(set(extra) - known)
        if unknown:
            errors["extra_exclusions"] = (f"Unknown exclusion criterion {', '.join(unknown)}; this study's further "
                                          f"criteria are: {', '.join(sorted(known)) or 'none'}.")
        elif any(v is not None and not isinstance(v, bool) for v in extra.values()):
            errors["extra_exclusions"] = "Each further criterion is answered true, false or null (unknown)."
    number = form.previous_screening_number
    if number:
        if not protocol.allow_rescreening:
            errors["previous_screening_number"] = "Re-screening is not allowed by this study's configuration."
        elif form.participant_id and number == form.participant.screening_number:
            errors["previous_screening_number"] = "A screening can't repeat itself."
        elif form.rescreen_of is None:
            errors["previous_screening_number"] = f"No screening {number} at this site."
        else:
            errors.update(_rescreen_problems(form, form.rescreen_of))
    return errors


def _rescreen_problems(form: Screening, earlier: Participant) -> dict[str, str]:
    field = "previous_screening_number"
    if earlier.is_randomized:
        return {field: f"Screening {earlier.screening_number} led to randomization; it can't be repeated."}
    earlier_screening = (Screening.objects.filter(participant=earlier, status__in=_LIVE).order_by("-pk").first())
    if earlier_screening is None or earlier_screening.eligibility != Eligibility.NOT_ELIGIBLE:
        return {field: f"Screening {earlier.screening_number} did not fail; only a failed screening may be repeated."}
    taken = (Screening.objects.filter(rescreen_of=earlier, status__in=_LIVE).exclude(participant_id=form.participant_id)
             .select_related("participant").first())
    if taken is not None:
        return {field: f"Screening {earlier.screening_number} was already repeated as {taken.participant.screening_number}."}
    return {}


SCREENING_FIELDS = (
    "sepsis3_at", "admission_route", "sofa_score_or_rise", "age", "sex", "infection_source", "covid19",
    "neutrophils_per_mm3", "corticosteroid_mg_per_day", *EXCLUSION_COLUMNS.values(), "extra_exclusions",
    "previous_screening_number",
)
SCREENING = register(FormSpec(
    key="screening.screening",
    model=Screening,
    fields=SCREENING_FIELDS,
    derived_fields=("eligibility", "phenotype", "ineligibility_reasons", "awaiting", "assessed_at",
                    "phenotype_fixed_at"),
    slug="screenings",
    label="Screening",
    one_per=(),
    validate=_validate_screening,
    derive=services.derive_screening,
))


# --- consent ------------------------------------------------------------------------------------


def _validate_consent(form: Consent) -> dict[str, str]:
    errors: dict[str, str] = {}
    protocol = current_protocol()
    if form.consent_by == ConsentBy.REPRESENTATIVE and not form.representative_relation:
        errors["representative_relation"] = "Say how the legal representative is related to the patient."
    if form.consent_by == ConsentBy.PATIENT and form.representative_relation:
        errors["representative_relation"] = "Only a representative's consent has a relation; leave it empty."
    version = (form.form_version or "").strip()
    form.form_version = version
    if protocol.consent_form_versions and version and version not in protocol.consent_form_versions:
        errors["form_version"] = (f"Unknown consent form version {version!r}; this study uses "
                                  f"{', '.join(protocol.consent_form_versions)}.")
    if form.consented_at is not None and form.consented_at > timezone.now():
        errors["consented_at"] = "The consent time can't be in the future."
    if form.patient_decision_at is not None and form.consented_at is not None and form.patient_decision_at < form.consented_at:
        errors["consented_at"] = "The patient's recorded decision precedes this time."
    lab = CentralLabResult.objects.filter(participant_id=form.participant_id, status__in=_LIVE).order_by("-pk").first()
    if lab is not None and form.consented_at is not None:
        sampled = [t for t in (lab.ferritin_sampled_at, lab.hla_dr_sampled_at) if t is not None]
        if sampled and form.decision != ConsentDecision.GIVEN:
            errors["decision"] = "Central-lab samples are already recorded; they need a consent given."
        elif sampled and min(sampled) < form.consented_at:
            errors["consented_at"] = (f"A central-lab sample was taken at {_fmt(min(sampled))}, before this consent "
                                      f"time; samples may only be taken after consent.")
    return errors


CONSENT = register(FormSpec(
    key="screening.consent",
    model=Consent,
    fields=("consent_by", "representative_relation", "decision", "form_version", "consented_at"),
    derived_fields=("patient_decision", "patient_decision_at", "patient_form_version", "withdrawal_type",
                    "withdrawn_on"),
    slug="consents",
    label="Consent",
    one_per=(),
    validate=_validate_consent,
))


# --- central lab ------------------------------------------------------------------------------


def validate_lab_values(form: CentralLabResult) -> dict[str, str]:
    """The central-lab rules, shared by entry and the CSV import."""
    errors: dict[str, str] = {}
    protocol = current_protocol()
    now = timezone.now()
    if form.ferritin is None and form.hla_dr is None and form.ferritin_sampled_at is None and form.hla_dr_sampled_at is None:
        errors["ferritin"] = "Give ferritin or HLA-DR (or at least a sample time while the result is awaited)."
    if form.ferritin is not None:
        if not isinstance(form.ferritin, Decimal) or not form.ferritin.is_finite():
            errors["ferritin"] = "Ferritin must be a number."
        elif form.ferritin < 0:
            errors["ferritin"] = "Ferritin can't be negative."
        elif form.ferritin > protocol.ferritin_max_ng_ml:
            errors["ferritin"] = (f"Ferritin {form.ferritin} ng/mL is beyond any measurable value (limit "
                                  f"{protocol.ferritin_max_ng_ml}); check the unit and the digits.")
    if form.hla_dr is not None:
        if form.hla_dr < 0:
            errors["hla_dr"] = "HLA-DR can't be negative."
        elif form.hla_dr > protocol.hla_dr_max_per_cell:
            errors["hla_dr"] = (f"HLA-DR {form.hla_dr} receptors per monocyte is beyond any measurable value "
                                f"(limit {protocol.hla_dr_max_per_cell}).")
    for name in ("ferritin", "hla_dr"):
        value, sampled, resulted = (getattr(form, name), getattr(form, f"{name}_sampled_at"),
                                    getattr(form, f"{name}_resulted_at"))
        label = "Ferritin" if name == "ferritin" else "HLA-DR"
        if value is not None and sampled is None:
            errors.setdefault(f"{name}_sampled_at", f"Give the time the {label} sample was taken.")
        if value is not None and resulted is None:
            errors.setdefault(f"{name}_resulted_at", f"Give the time the {label} result was reported.")
        if value is None and resulted is not None:
            errors.setdefault(name, f"A {label} result time needs the {label} value.")
        if sampled is not None and sampled > now:
            errors.setdefault(f"{name}_sampled_at", "A sample time can't be in the future.")
        if resulted is not None and resulted > now:
            errors.setdefault(f"{name}_resulted_at", "A result time can't be in the future.")
        if sampled is not None and resulted is not None and resulted < sampled:
            errors.setdefault(f"{name}_resulted_at", "The result can't precede its sample.")
    sampled_times = [t for t in (form.ferritin_sampled_at, form.hla_dr_sampled_at) if t is not None]
    if sampled_times:
        consent = Consent.objects.filter(participant_id=form.participant_id, status__in=_LIVE).order_by("-pk").first()
        first = min(sampled_times)
        field = "ferritin_sampled_at" if form.ferritin_sampled_at == first else "hla_dr_sampled_at"
        if consent is None or consent.decision != ConsentDecision.GIVEN:
            errors.setdefault(field, "Samples for the central lab may only be taken after consent; no consent is recorded.")
        elif first < consent.consented_at:
            errors.setdefault(field, f"Sampling before consent: consent was given at {_fmt(consent.consented_at)}; "
                                     f"samples may only be taken after it.")
    return errors


LAB_READ_ROLES = CASEBOOK_READ_ROLES | {Role.LAB}
CENTRAL_LAB = register(FormSpec(
    key="screening.central_lab",
    model=CentralLabResult,
    fields=("ferritin", "ferritin_unit", "ferritin_sampled_at", "ferritin_resulted_at", "hla_dr",
            "hla_dr_sampled_at", "hla_dr_resulted_at"),
    slug="lab-results",
    label="Central-lab result",
    # The lab enters (all sites, blinded); site staff see results and phenotype, not edit them.
    write_roles=frozenset({Role.LAB}),
    read_roles=LAB_READ_ROLES,
    one_per=(),
    validate=validate_lab_values,
))
