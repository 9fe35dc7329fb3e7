"""The trial's protocol constants: the one place where reference/trial.md's numbers live.

Plain values with no Django import, so that pure domain modules (phenotype classification,
SOFA scoring, endpoint derivation, deadline arithmetic, allocation lists) can take a
``Protocol`` and be tested without a database. The live study's configuration
(``study.models.Study``) stores overrides of these defaults, audited once the study is live.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Protocol:
    # Immune phenotype (trial.md "Immune phenotype"): MALS if ferritin > threshold;
    # immunoparalysis if ferritin <= threshold and HLA-DR < threshold.
    ferritin_mals_threshold: Decimal = Decimal(4420)  # ng/mL, strict ">"
    hla_dr_immunoparalysis_threshold: int = 5000  # receptors/cell, strict "<"
    min_age_years: int = 18
    # Sepsis-3 to first dose (randomization gate), hours.
    sepsis_window_hours: int = 72
    # Exclusion thresholds (configurable: public sources differ).
    neutrophil_min_per_mm3: int = 1000
    corticosteroid_max_hydrocortisone_mg_per_day: Decimal = Decimal(200)
    allow_rescreening: bool = True
    allow_withdrawal_of_collected_data: bool = False
    covid_mals_only: bool = True
    # Treatment (trial.md "Treatment").
    treatment_days: int = 15
    iv_interval_hours: int = 8
    sc_interval_hours: int = 48
    iv_dose_count: int = 45
    sc_dose_count: int = 8
    # Assessments.
    sofa_days: int = 15
    sampling_days: tuple[int, ...] = (2, 3, 4, 5, 7, 8, 15, 28, 90)
    vital_status_days: tuple[int, ...] = (28, 90)
    safety_window_days: int = 30
    # Primary endpoint (SAP): SOFA(day 1) - mean(SOFA days 2..9) > 1.4.
    primary_first_day: int = 2
    primary_last_day: int = 9
    secondary_last_day: int = 15
    responder_threshold: Decimal = Decimal("1.4")  # strict ">"
    death_sofa_score: int = 24
    # Randomization (standards.md "Randomization").
    stratification_factors: tuple[str, ...] = ("site", "phenotype")
    block_sizes: tuple[int, ...] = (4, 6)
    allocation_ratio: tuple[int, int] = (1, 1)  # active : placebo
    # Safety reporting (safety.md "Deadlines").
    sponsor_time_zone: str = "Europe/Athens"
    sae_initial_report_hours: int = 24
    sae_followup_report_hours: int = 24
    susar_fatal_days: int = 7
    susar_fatal_followup_days: int = 8
    susar_other_days: int = 15
    clock_due_soon_fraction: Decimal = Decimal("0.25")  # due soon when <= 25% of time is left
    # --- screening and consent: add new settings below this line ---
    # Exclusion criteria that apply (codes of ecrf.screening.eligibility.EXCLUSION_CRITERIA);
    # "neutropenia" and "corticosteroids" are computed from the numbers and thresholds above.
    exclusion_codes: tuple[str, ...] = (
        "pyelonephritis", "intra_abdominal", "meningitis", "skin_soft_tissue", "skin_commensal_bacteremia",
        "catheter_related_bacteremia", "stage_iv_malignancy", "dnr", "neutropenia", "corticosteroids",
    )
    # Further study-specific exclusion criteria, answered yes/no: "code: label" entries.
    extra_exclusion_criteria: tuple[str, ...] = ()
    # Accepted consent form versions; empty accepts any version text.
    consent_form_versions: tuple[str, ...] = ()
    # Central-lab plausibility limits: values above them are refused as impossible.
    ferritin_max_ng_ml: Decimal = Decimal(500000)
    hla_dr_max_per_cell: int = 200000


    # --- randomization and pharmacy: add new settings below this line ---
    # Subject ID given at randomization: {site} is the site code, {number} the site's count.
    subject_id_format: str = "{site}-{number:03d}"
    # How study drug reaches the participant: "pharmacy_preparation" (the site's unblinded
    # pharmacist prepares each dose); a kit mode can be added in ecrf.pharmacy.supply.
    supply_mode: str = "pharmacy_preparation"
    # The double-dummy regimen (trial.md "Treatment"): what the pharmacist prepares per dose.
    iv_active_dose: str = "anakinra 200 mg in 20 mL saline"
    iv_placebo_dose: str = "saline 20 mL"
    sc_active_dose: str = "interferon-gamma-1b 100 ug"
    sc_placebo_dose: str = "saline 0.5 mL"


    # --- schedule, dosing, labs, outcomes: add new settings below this line ---
    # An administration is due for entry from its scheduled time and overdue this long after it.
    administration_entry_grace_hours: int = 24
    # Day-15 phenotype reversal (trial.md "Secondary endpoints"): MALS, ferritin fall >= 15% from
    # screening; immunoparalysis, HLA-DR > 8000 and ferritin < 4420 (strict, as the SAP words it).
    reversal_ferritin_fall_fraction: Decimal = Decimal("0.15")
    reversal_hla_dr_min: int = 8000
    reversal_ferritin_max: Decimal = Decimal("4420")
    reversal_day: int = 15
    # Anemia signal (trial.md "Published figures": more anemia with anakinra): hemoglobin below.
    anemia_hemoglobin_g_dl: Decimal = Decimal("10")

    # --- SOFA and endpoints: add new settings below this line ---

    # --- safety: add new settings below this line ---
    # Serious events the protocol exempts from 24-hour reporting (CTR Art. 41(2)): expected in
    # sepsis or efficacy endpoints. Preferred-term codes of the loaded dictionary (the defaults
    # are the demonstration dictionary's septic shock, multiple organ dysfunction and death
    # from sepsis); recorded on the event, visible, and start no 24-hour clock.
    sae_exempt_pt_codes: tuple[int, ...] = (93000004, 93000005, 93000009)

    # The first day the trial could hold clinical data (ISO date): no clinical date or time
    # (Sepsis-3, consent, doses, AE onset, deviations, deaths) is earlier (hard limit).
    study_start_date: str = "2021-01-01"

    # Login security (Part 11 access control).
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    idle_timeout_minutes: int = 30

    def with_overrides(self, overrides: dict[str, Any] | None) -> Protocol:
        """A copy with the given fields replaced, each coerced to the default's type."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for name, raw in overrides.items():
            if name not in known:
                raise ValueError(f"Unknown protocol setting {name!r}.")
            default = getattr(self, name)
            values[name] = _coerce(default, raw, name)
        return replace(self, **values)

    def study_start(self) -> date:
        return date.fromisoformat(self.study_start_date)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, Decimal) else (list(v) if isinstance(v, tuple) else v)
        return out


def _coerce(default: Any, raw: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            raise TypeError
        if isinstance(default, Decimal):
            return Decimal(str(raw))
        if isinstance(default, int):
            if isinstance(raw, bool) or int(raw) != float(raw):
                raise TypeError
            return int(raw)
        if isinstance(default, tuple):
            return tuple(type(default[0])(x) if default else x for x in raw)
        if isinstance(default, str):
            if not isinstance(raw, str):
                raise TypeError
            if name.endswith("_date"):
                date.fromisoformat(raw)  # an ISO date, or ValueError
            return raw
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"Protocol setting {name!r} must be like {default!r}, got {raw!r}.") from exc
    return raw


DEFAULT_PROTOCOL = Protocol()

__all__ = ["DEFAULT_PROTOCOL", "Protocol"]
