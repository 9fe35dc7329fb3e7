"""The screening forms' entry rules, as pure functions on plain values (no Django).

``eligibility.py`` decides the outcome (eligibility and phenotype, trial.md "Who is screened",
"Immune phenotype"); this module decides whether what was entered on the three screening forms
(screening log, consent, central lab) can be true: each function returns ``{field: message}``
for the problems it finds, empty when there are none. The spec hooks in ``services`` read the
form and what the database says (the live consent, the earlier screening) into the dataclasses
below and call these functions, so every rule is tested on plain values.

Every number comes from a ``Protocol`` (live values: ``ecrf.study.services.current_protocol``).
Times are timezone-aware; ``zone`` is the zone messages show times in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ecrf.study.protocol import Protocol

# Stored codes of the consent form's choices (``models.ConsentBy`` etc. use the same values).
CONSENT_BY_PATIENT = "patient"
CONSENT_BY_REPRESENTATIVE = "representative"
DECISION_GIVEN = "given"
PATIENT_REFUSED = "refused"
# A withdrawal widens in this order and never narrows (``models.WITHDRAWAL_ORDER``).
WITHDRAWAL_ORDER: tuple[str, ...] = ("treatment", "data_collection", "data_use")

# Plausibility limits of bedside answers: beyond them the value is a typing error.
MAX_AGE_YEARS = 120
MAX_SOFA_POINTS = 24  # 6 organ systems x 4 points (sofa.md)

# Ferritin units the central lab reports, and their factor to ng/mL: ug/L equals ng/mL.
FERRITIN_TO_NG_ML: Mapping[str, Decimal] = {"ng/mL": Decimal(1), "ug/L": Decimal(1)}


def _when(value: dt.datetime, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# --- configuration ------------------------------------------------------------------------------


def extra_criteria(protocol: Protocol) -> list[tuple[str, str]]:
    """Study-specific exclusion criteria ("code: label" entries of the protocol settings)."""
    out: list[tuple[str, str]] = []
    for entry in protocol.extra_exclusion_criteria:
        code, _, label = entry.partition(":")
        code = code.strip()
        if code:
            out.append((code, label.strip() or code))
    return out


def exclusion_codes(protocol: Protocol) -> list[str]:
    """Every exclusion criterion that applies: the configured known ones, then the extra ones."""
    return [*protocol.exclusion_codes, *(code for code, _ in extra_criteria(protocol))]


def flag_exclusion_codes(protocol: Protocol, flag_codes: Iterable[str]) -> list[str]:
    """Configured criteria answered yes/no on the form (``flag_codes``), not computed from numbers."""
    flags = set(flag_codes)
    return [c for c in protocol.exclusion_codes if c in flags]


def ferritin_ng_ml(value: Decimal, unit: str) -> Decimal:
    """Ferritin in ng/mL, the unit of the MALS threshold (trial.md "Immune phenotype")."""
    try:
        return value * FERRITIN_TO_NG_ML[unit or "ng/mL"]
    except KeyError:
        raise ValueError(f"Unknown ferritin unit {unit!r}; use {' or '.join(FERRITIN_TO_NG_ML)}.") from None


def consent_counts(*, decision: str | None, patient_decision: str, withdrawn: bool,
                   as_randomized: bool) -> bool | None:
    """Whether the consent counts for eligibility: None without a consent form (``decision`` None).

    A refusal fails. After randomization the outcome is judged on the data of the day: the
    patient's later refusal or a withdrawal is not an eligibility correction (nor a deviation).
    Before it, the patient's refusal of a representative's consent, or a withdrawal, ends it.
    """
    if decision is None:
        return None
    if decision != DECISION_GIVEN:
        return False
    if as_randomized:
        return True
    return patient_decision != PATIENT_REFUSED and not withdrawn


def withdrawal_widens(current: str, new: str) -> bool:
    """A later withdrawal must reach further than the one on record (``WITHDRAWAL_ORDER``)."""
    return WITHDRAWAL_ORDER.index(new) > WITHDRAWAL_ORDER.index(current)


# --- the screening-log entry --------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningEntry:
    """The screening form's answers that have entry rules; ``None`` is not yet answered."""

    sepsis3_at: dt.datetime | None = None
    age: int | None = None
    sofa_score_or_rise: int | None = None
    corticosteroid_mg_per_day: Decimal | None = None
    extra_exclusions: Any = None  # should be {code: True/False/None}; anything else is refused
    previous_screening_number: str = ""


@dataclass(frozen=True)
class EarlierScreening:
    """The screening a re-screening repeats, as the database has it."""

    screening_number: str
    randomized: bool
    failed: bool  # its live screening form says not eligible
    repeated_as: str | None = None  # the screening number of another repeat of it, if any


def screening_entry_problems(entry: ScreeningEntry, *, protocol: Protocol, now: dt.datetime,
                             own_screening_number: str | None = None,
                             earlier: EarlierScreening | None = None) -> dict[str, str]:
    """The screening form's rules. ``earlier`` is the screening named by
    ``previous_screening_number`` at this site (None if there is none)."""
    errors: dict[str, str] = {}
    if entry.sepsis3_at is not None and entry.sepsis3_at > now:
        errors["sepsis3_at"] = "The Sepsis-3 classification can't be in the future."
    if entry.age is not None and entry.age > MAX_AGE_YEARS:
        errors["age"] = f"An age above {MAX_AGE_YEARS} years is not possible."
    if entry.sofa_score_or_rise is not None and entry.sofa_score_or_rise > MAX_SOFA_POINTS:
        errors["sofa_score_or_rise"] = f"SOFA is at most {MAX_SOFA_POINTS}."
    if entry.corticosteroid_mg_per_day is not None and entry.corticosteroid_mg_per_day < 0:
        errors["corticosteroid_mg_per_day"] = "The corticosteroid dose can't be negative; 0 if none."
    problem = extra_exclusions_problem(entry.extra_exclusions, protocol=protocol)
    if problem:
        errors["extra_exclusions"] = problem
    number = entry.previous_screening_number
    if number:
        problem = rescreen_problem(number, protocol=protocol, own_screening_number=own_screening_number,
                                   earlier=earlier)
        if problem:
            errors["previous_screening_number"] = problem
    return errors


def extra_exclusions_problem(extra: Any, *, protocol: Protocol) -> str | None:
    """The study's further criteria are answered as {code: true/false/null}, known codes only."""
    known = {code for code, _ in extra_criteria(protocol)}
    if not isinstance(extra, dict):
        return "Give the further exclusion criteria as {code: true/false/null}."
    unknown = sorted(set(extra) - known)
    if unknown:
        return (f"Unknown exclusion criterion {', '.join(unknown)}; this study's further "
                f"criteria are: {', '.join(sorted(known)) or 'none'}.")
    if any(v is not None and not isinstance(v, bool) for v in extra.values()):
        return "Each further criterion is answered true, false or null (unknown)."
    return None


def rescreen_problem(number: str, *, protocol: Protocol, own_screening_number: str | None,
                     earlier: EarlierScreening | None) -> str | None:
    """Only a failed, never randomized screening of the same site may be repeated, once, and
    only if the study allows re-screening."""
    if not protocol.allow_rescreening:
        return "Re-screening is not allowed by this study's configuration."
    if own_screening_number is not None and number == own_screening_number:
        return "A screening can't repeat itself."
    if earlier is None:
        return f"No screening {number} at this site."
    if earlier.randomized:
        return f"Screening {earlier.screening_number} led to randomization; it can't be repeated."
    if not earlier.failed:
        return f"Screening {earlier.screening_number} did not fail; only a failed screening may be repeated."
    if earlier.repeated_as is not None:
        return f"Screening {earlier.screening_number} was already repeated as {earlier.repeated_as}."
    return None


# --- consent ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentEntry:
    consent_by: str = ""
    representative_relation: str = ""
    decision: str = ""
    form_version: str = ""  # already stripped
    consented_at: dt.datetime | None = None
    patient_decision_at: dt.datetime | None = None  # derived, from the patient's later decision


def consent_problems(entry: ConsentEntry, *, protocol: Protocol, now: dt.datetime, zone: dt.tzinfo,
                     first_lab_sample_at: dt.datetime | None = None) -> dict[str, str]:
    """The consent form's rules. ``first_lab_sample_at`` is the earliest central-lab sample time
    already recorded for the participant: samples may only be taken after consent."""
    errors: dict[str, str] = {}
    if entry.consent_by == CONSENT_BY_REPRESENTATIVE and not entry.representative_relation:
        errors["representative_relation"] = "Say how the legal representative is related to the patient."
    if entry.consent_by == CONSENT_BY_PATIENT and entry.representative_relation:
        errors["representative_relation"] = "Only a representative's consent has a relation; leave it empty."
    version = entry.form_version
    if protocol.consent_form_versions and version and version not in protocol.consent_form_versions:
        errors["form_version"] = (f"Unknown consent form version {version!r}; this study uses "
                                  f"{', '.join(protocol.consent_form_versions)}.")
    if entry.consented_at is not None and entry.consented_at > now:
        errors["consented_at"] = "The consent time can't be in the future."
    if (entry.patient_decision_at is not None and entry.consented_at is not None
            and entry.patient_decision_at < entry.consented_at):
        errors["consented_at"] = "The patient's recorded decision precedes this time."
    if first_lab_sample_at is not None and entry.consented_at is not None:
        if entry.decision != DECISION_GIVEN:
            errors["decision"] = "Central-lab samples are already recorded; they need a consent given."
        elif first_lab_sample_at < entry.consented_at:
            errors["consented_at"] = (f"A central-lab sample was taken at {_when(first_lab_sample_at, zone)}, before "
                                      f"this consent time; samples may only be taken after consent.")
    return errors


# --- central lab --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabEntry:
    """The central lab's screening sample: values in ng/mL and receptors per monocyte."""

    ferritin: Any = None  # a Decimal when valid; anything else is refused
    ferritin_sampled_at: dt.datetime | None = None
    ferritin_resulted_at: dt.datetime | None = None
    hla_dr: int | None = None
    hla_dr_sampled_at: dt.datetime | None = None
    hla_dr_resulted_at: dt.datetime | None = None

    @property
    def first_sampled_at(self) -> dt.datetime | None:
        times = [t for t in (self.ferritin_sampled_at, self.hla_dr_sampled_at) if t is not None]
        return min(times) if times else None


@dataclass(frozen=True)
class ConsentOnRecord:
    """The participant's live consent form, as the lab's rules need it."""

    given: bool
    consented_at: dt.datetime | None


_LAB_LABELS = {"ferritin": "Ferritin", "hla_dr": "HLA-DR"}


def lab_problems(entry: LabEntry, *, protocol: Protocol, now: dt.datetime, zone: dt.tzinfo,
                 consent: ConsentOnRecord | None) -> dict[str, str]:
    """The central-lab rules, shared by entry and the CSV import. ``consent`` is the
    participant's live consent (None: no consent form)."""
    errors: dict[str, str] = {}
    if (entry.ferritin is None and entry.hla_dr is None and entry.ferritin_sampled_at is None
            and entry.hla_dr_sampled_at is None):
        errors["ferritin"] = "Give ferritin or HLA-DR (or at least a sample time while the result is awaited)."
    if entry.ferritin is not None:
        if not isinstance(entry.ferritin, Decimal) or not entry.ferritin.is_finite():
            errors["ferritin"] = "Ferritin must be a number."
        elif entry.ferritin < 0:
            errors["ferritin"] = "Ferritin can't be negative."
        elif entry.ferritin > protocol.ferritin_max_ng_ml:
            errors["ferritin"] = (f"Ferritin {entry.ferritin} ng/mL is beyond any measurable value (limit "
                                  f"{protocol.ferritin_max_ng_ml}); check the unit and the digits.")
    if entry.hla_dr is not None:
        if entry.hla_dr < 0:
            errors["hla_dr"] = "HLA-DR can't be negative."
        elif entry.hla_dr > protocol.hla_dr_max_per_cell:
            errors["hla_dr"] = (f"HLA-DR {entry.hla_dr} receptors per monocyte is beyond any measurable value "
                                f"(limit {protocol.hla_dr_max_per_cell}).")
    for name, label in _LAB_LABELS.items():
        value, sampled, resulted = (getattr(entry, name), getattr(entry, f"{name}_sampled_at"),
                                    getattr(entry, f"{name}_resulted_at"))
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
    first = entry.first_sampled_at
    if first is not None:
        # trial.md: samples for the central lab are taken after informed consent.
        field = "ferritin_sampled_at" if entry.ferritin_sampled_at == first else "hla_dr_sampled_at"
        if consent is None or not consent.given or consent.consented_at is None:
            errors.setdefault(field, "Samples for the central lab may only be taken after consent; no consent is recorded.")
        elif first < consent.consented_at:
            errors.setdefault(field, f"Sampling before consent: consent was given at {_when(consent.consented_at, zone)}; "
                                     f"samples may only be taken after it.")
    return errors
