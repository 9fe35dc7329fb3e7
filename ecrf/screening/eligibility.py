"""Screening eligibility and immune phenotype, as pure functions (no Django).

The rules are those of reference/trial.md ("Who is screened", "Immune phenotype"); every number
comes from a ``Protocol`` so that the live study's configuration decides the thresholds.

Three-valued outcome: a screening form is filled in over hours (the central lab reports ferritin
and HLA-DR later than the bedside answers), so an unanswered item is ``None`` and makes the
result ``pending`` unless some answered item already fails a criterion. A definite failure always
wins over anything still awaited, and every definite failure is reported, so the screening log
records each criterion that failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Literal

from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol

PhenotypeOutcome = Literal["MALS", "immunoparalysis", "neither", "pending"]
Phenotype = Literal["MALS", "immunoparalysis"]
Eligibility = Literal["eligible", "not_eligible", "pending"]
AdmissionRoute = Literal["emergency_department", "hospitalised"]
InfectionSource = Literal["CAP", "HAP", "VAP", "BSI", "other"]

ADMISSION_ROUTES: tuple[AdmissionRoute, ...] = ("emergency_department", "hospitalised")
INFECTION_SOURCES: tuple[InfectionSource, ...] = ("CAP", "HAP", "VAP", "BSI", "other")
# trial.md "Who is screened": sepsis caused by CAP, HAP, VAP or primary bacteremia only.
ELIGIBLE_INFECTION_SOURCES: frozenset[str] = frozenset({"CAP", "HAP", "VAP", "BSI"})
# Sepsis-3 (Singer et al., JAMA 2016): SOFA >= 2 on admission, or an acute rise >= 2. This is the
# definition of sepsis itself, not a trial choice, so it is not a Protocol setting.
SEPSIS3_MIN_SOFA_POINTS = 2

# Exclusions computed from numeric answers and protocol thresholds rather than from a yes/no flag.
EXCLUSION_NEUTROPENIA = "neutropenia"
EXCLUSION_CORTICOSTEROIDS = "corticosteroids"
COMPUTED_EXCLUSIONS: frozenset[str] = frozenset({EXCLUSION_NEUTROPENIA, EXCLUSION_CORTICOSTEROIDS})

# trial.md "Who is screened", exclusions known from public sources, in the order the form shows
# them. The study may configure a different list (``exclusion_codes``); codes are stable because
# the screening log stores them.
EXCLUSION_CRITERIA: tuple[tuple[str, str], ...] = (
    ("pyelonephritis", "Infection from another source: acute pyelonephritis"),
    ("intra_abdominal", "Infection from another source: intra-abdominal infection"),
    ("meningitis", "Infection from another source: meningitis"),
    ("skin_soft_tissue", "Infection from another source: skin and soft-tissue infection"),
    (
        "skin_commensal_bacteremia",
        "Bacteremia by coagulase-negative staphylococci or other skin commensals",
    ),
    ("catheter_related_bacteremia", "Catheter-related bacteremia"),
    ("stage_iv_malignancy", "Stage IV malignancy"),
    ("dnr", "Do-not-resuscitate decision"),
    (EXCLUSION_NEUTROPENIA, "Neutropenia (absolute neutrophils below the protocol threshold)"),
    (
        EXCLUSION_CORTICOSTEROIDS,
        "Corticosteroids above the protocol daily dose (hydrocortisone equivalents)",
    ),
)
EXCLUSION_CODES: tuple[str, ...] = tuple(code for code, _ in EXCLUSION_CRITERIA)
EXCLUSION_LABELS: dict[str, str] = dict(EXCLUSION_CRITERIA)

# Stable reason codes (stored in the screening log) -> text shown to the investigator.
REASON_LABELS: dict[str, str] = {
    "age_under_18": "Younger than the protocol's minimum age (18 years)",
    "sepsis3_not_met": "Sepsis-3 not met (SOFA >= 2 on admission, or a rise of SOFA >= 2)",
    "infection_source_not_eligible": "Infection source is not CAP, HAP, VAP or primary bacteremia",
    "phenotype_neither": "Neither MALS nor immunoparalysis",
    "neutropenia": "Neutropenia: absolute neutrophils below the protocol threshold",
    "corticosteroids_above_threshold": "Corticosteroids above the protocol daily dose",
    "covid19_not_mals": "COVID-19 patients may enter as MALS only",
    "no_consent": "No informed consent",
    **{
        f"excl_{code}": label
        for code, label in EXCLUSION_CRITERIA
        if code not in COMPUTED_EXCLUSIONS
    },
}


def reason_label(code: str) -> str:
    """Human text for a reason code, including ``excl_<code>`` of a study-configured criterion."""
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    if code.startswith("excl_"):
        return f"Exclusion criterion met: {code.removeprefix('excl_')}"
    return code


@dataclass(frozen=True)
class PhenotypeResult:
    outcome: PhenotypeOutcome
    # What the outcome still waits for ("ferritin", "hla_dr"); empty unless outcome is pending.
    awaiting: tuple[str, ...] = ()

    @property
    def phenotype(self) -> Phenotype | None:
        """The phenotype that makes a patient eligible, or None (neither, or not yet known)."""
        if self.outcome == "MALS" or self.outcome == "immunoparalysis":
            return self.outcome
        return None


def _as_decimal(value: int | Decimal | None, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"{name} must be a Decimal or an int, got {value!r}.")
    try:
        dec = Decimal(value)
    except (InvalidOperation, ValueError) as exc:  # pragma: no cover - Decimal(int) never fails
        raise ValueError(f"{name} must be a number, got {value!r}.") from exc
    if not dec.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if dec < 0:
        raise ValueError(f"{name} can't be negative, got {value!r}.")
    return dec


def classify_phenotype(
    ferritin: Decimal | None,
    hla_dr: int | Decimal | None,
    *,
    protocol: Protocol = DEFAULT_PROTOCOL,
) -> PhenotypeResult:
    """Classify the immune phenotype from screening ferritin (ng/mL) and HLA-DR (receptors/cell).

    trial.md "Immune phenotype": MALS if ferritin > 4420 (whatever HLA-DR, so a patient meeting
    both definitions is MALS); immunoparalysis if ferritin <= 4420 and HLA-DR < 5000; otherwise
    neither. ``None`` means the lab value has not arrived yet.
    """
    ferritin_value = _as_decimal(ferritin, "ferritin")
    hla_dr_value = _as_decimal(hla_dr, "hla_dr")
    if ferritin_value is None:
        # Without ferritin MALS can't be ruled out, whatever HLA-DR says.
        awaiting = ("ferritin",) if hla_dr_value is not None else ("ferritin", "hla_dr")
        return PhenotypeResult("pending", awaiting)
    # trial.md: MALS is ferritin strictly above the threshold; exactly 4420 is not MALS.
    if ferritin_value > protocol.ferritin_mals_threshold:
        return PhenotypeResult("MALS")
    if hla_dr_value is None:
        return PhenotypeResult("pending", ("hla_dr",))
    # trial.md: immunoparalysis is HLA-DR strictly below the threshold; exactly 5000 is not.
    if hla_dr_value < protocol.hla_dr_immunoparalysis_threshold:
        return PhenotypeResult("immunoparalysis")
    return PhenotypeResult("neither")


@dataclass(frozen=True)
class ScreeningFacts:
    """The screening answers; ``None`` anywhere means "not yet answered"."""

    age: int | None = None  # completed years
    sepsis3_met: bool | None = None  # investigator: infection with organ dysfunction (Sepsis-3)
    admission_route: AdmissionRoute | None = None
    # SOFA on admission (emergency department) or its rise (already hospitalised patient).
    sofa_score_or_rise: int | None = None
    infection_source: InfectionSource | None = None
    # Yes/no exclusion answers by criterion code; a missing or None entry is unanswered.
    exclusions: Mapping[str, bool | None] = field(default_factory=dict)
    neutrophils_per_mm3: int | None = None
    # Current systemic corticosteroids, daily dose in hydrocortisone equivalents; 0 if none.
    corticosteroid_hydrocortisone_mg_per_day: Decimal | None = None
    covid19: bool | None = None
    consent_given: bool | None = None
    ferritin: Decimal | None = None  # ng/mL
    hla_dr: int | Decimal | None = None  # receptors per CD45/CD14 monocyte

    def __post_init__(self) -> None:
        if self.age is not None and (isinstance(self.age, bool) or self.age < 0):
            raise ValueError(f"age must be a non-negative int, got {self.age!r}.")
        if self.admission_route is not None and self.admission_route not in ADMISSION_ROUTES:
            raise ValueError(f"Unknown admission_route {self.admission_route!r}.")
        if self.infection_source is not None and self.infection_source not in INFECTION_SOURCES:
            raise ValueError(f"Unknown infection_source {self.infection_source!r}.")
        if self.neutrophils_per_mm3 is not None and self.neutrophils_per_mm3 < 0:
            raise ValueError("neutrophils_per_mm3 can't be negative.")
        # Coerce numbers once so the rules compare Decimals; also rejects NaN and negatives.
        object.__setattr__(
            self,
            "corticosteroid_hydrocortisone_mg_per_day",
            _as_decimal(
                self.corticosteroid_hydrocortisone_mg_per_day,
                "corticosteroid_hydrocortisone_mg_per_day",
            ),
        )
        _as_decimal(self.ferritin, "ferritin")
        _as_decimal(self.hla_dr, "hla_dr")
        # A read-only copy: the facts are a snapshot of the form at assessment time.
        object.__setattr__(self, "exclusions", MappingProxyType(dict(self.exclusions)))


@dataclass(frozen=True)
class EligibilityResult:
    eligibility: Eligibility
    phenotype: Phenotype | None  # known MALS or immunoparalysis, whatever the eligibility
    reasons: tuple[str, ...]  # every definite failure, as stable codes (see REASON_LABELS)
    pending: tuple[str, ...]  # what is still awaited: field names or "exclusion:<code>"
    phenotype_result: PhenotypeResult

    @property
    def reason_labels(self) -> tuple[str, ...]:
        return tuple(reason_label(code) for code in self.reasons)


def assess_eligibility(
    facts: ScreeningFacts,
    *,
    protocol: Protocol = DEFAULT_PROTOCOL,
    exclusion_codes: Sequence[str] = EXCLUSION_CODES,
) -> EligibilityResult:
    """Decide eligibility: any definite failure -> not_eligible (with every definite reason);
    otherwise anything awaited -> pending; otherwise eligible.

    ``exclusion_codes`` is the study's configured exclusion list. ``neutropenia`` and
    ``corticosteroids`` are computed from the numeric answers; every other code is read from
    ``facts.exclusions`` (answers for codes not configured are ignored).
    """
    reasons: list[str] = []
    pending: list[str] = []

    # trial.md "Who is screened": adults (>= 18 years).
    if facts.age is None:
        pending.append("age")
    elif facts.age < protocol.min_age_years:
        reasons.append("age_under_18")

    # Sepsis-3: SOFA >= 2 on admission from the ED, or a rise >= 2 when already hospitalised.
    # The threshold is the same on both routes; the route says what the number means.
    sepsis3_failed = False
    if facts.sepsis3_met is None:
        pending.append("sepsis3_met")
    elif not facts.sepsis3_met:
        sepsis3_failed = True
    if facts.admission_route is None:
        pending.append("admission_route")
    if facts.sofa_score_or_rise is None:
        pending.append("sofa_score_or_rise")
    elif facts.sofa_score_or_rise < SEPSIS3_MIN_SOFA_POINTS:
        sepsis3_failed = True
    if sepsis3_failed:
        reasons.append("sepsis3_not_met")

    # trial.md: sepsis caused by CAP, HAP, VAP or primary bacteremia.
    if facts.infection_source is None:
        pending.append("infection_source")
    elif facts.infection_source not in ELIGIBLE_INFECTION_SOURCES:
        reasons.append("infection_source_not_eligible")

    # trial.md "Immune phenotype": MALS or immunoparalysis; neither is a screen failure.
    phenotype_result = classify_phenotype(facts.ferritin, facts.hla_dr, protocol=protocol)
    if phenotype_result.outcome == "neither":
        reasons.append("phenotype_neither")
    elif phenotype_result.outcome == "pending":
        pending.extend(phenotype_result.awaiting)

    # trial.md: in the published trial, COVID-19 patients could enter as MALS only.
    if protocol.covid_mals_only and phenotype_result.outcome != "MALS":
        ferritin = _as_decimal(facts.ferritin, "ferritin")
        mals_ruled_out = ferritin is not None and ferritin <= protocol.ferritin_mals_threshold
        if facts.covid19 is None:
            pending.append("covid19")
        elif facts.covid19 and mals_ruled_out:
            reasons.append("covid19_not_mals")
        # COVID-19 with ferritin still awaited: could yet be MALS, so the phenotype keeps it
        # pending above.

    # trial.md exclusions, as configured by the study.
    for code in dict.fromkeys(exclusion_codes):  # de-duplicated, order kept
        if code == EXCLUSION_NEUTROPENIA:
            # Neutropenia: absolute neutrophils strictly below the configured minimum.
            if facts.neutrophils_per_mm3 is None:
                pending.append("neutrophils_per_mm3")
            elif facts.neutrophils_per_mm3 < protocol.neutrophil_min_per_mm3:
                reasons.append("neutropenia")
        elif code == EXCLUSION_CORTICOSTEROIDS:
            # Corticosteroids: daily dose strictly above the configured maximum is excluded.
            dose = facts.corticosteroid_hydrocortisone_mg_per_day
            if dose is None:
                pending.append("corticosteroid_hydrocortisone_mg_per_day")
            elif dose > protocol.corticosteroid_max_hydrocortisone_mg_per_day:
                reasons.append("corticosteroids_above_threshold")
        else:
            answer = facts.exclusions.get(code)
            if answer is None:
                pending.append(f"exclusion:{code}")
            elif answer:
                reasons.append(f"excl_{code}")

    # trial.md: informed consent from the patient or a legal representative.
    if facts.consent_given is None:
        pending.append("consent_given")
    elif not facts.consent_given:
        reasons.append("no_consent")

    eligibility: Eligibility
    if reasons:
        eligibility = "not_eligible"
    elif pending:
        eligibility = "pending"
    else:
        eligibility = "eligible"
    return EligibilityResult(
        eligibility=eligibility,
        phenotype=phenotype_result.phenotype,
        reasons=tuple(reasons),
        pending=tuple(pending),
        phenotype_result=phenotype_result,
    )


__all__ = [
    "ADMISSION_ROUTES",
    "COMPUTED_EXCLUSIONS",
    "ELIGIBLE_INFECTION_SOURCES",
    "EXCLUSION_CODES",
    "EXCLUSION_CRITERIA",
    "EXCLUSION_LABELS",
    "INFECTION_SOURCES",
    "REASON_LABELS",
    "SEPSIS3_MIN_SOFA_POINTS",
    "EligibilityResult",
    "PhenotypeResult",
    "ScreeningFacts",
    "assess_eligibility",
    "classify_phenotype",
    "reason_label",
]
