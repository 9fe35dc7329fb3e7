"""The adverse event's rules, pure (no database, no clock: the caller passes today's date, the
current time, the MedDRA coding and the recorded death). ``safety.derivation`` gathers those
facts for the form machinery.

AE and death (the AE and Death forms are entered in either order, by different people, often
days apart):

- Within the AE form, hard errors (400, nothing stored): grade 5 needs the outcome "fatal" and the
  criterion "results in death"; a fatal outcome caused by the AE needs grade 5.
- Against the Death form (submitted deaths only):
  * hard errors when the death is already recorded as the AE is saved, because the entry is
    then certainly wrong: an onset date, or an end date, after the date of death (site zone);
  * a *soft* check otherwise, the derived ``death_check`` message (blank when consistent): a
    grade 5 or fatal AE while no death is recorded yet ("enter the Death form"), or a death
    recorded later with a date before this AE's onset. It never blocks either form (the other
    one may simply not be entered yet); it shows on the AE page, in the AE list and API, and as
    a home-page task for the site. It is re-derived when the AE is saved and, through the Death
    form's write listener (safety.listeners), whenever the participant's Death form is saved
    (audited as its own history entry, without a new AE version, so adjudication is not
    reopened by it).
- A death without any fatal AE is not flagged: a death from sepsis may be an exempted efficacy
  endpoint recorded only on the Death form (safety.md "Exempted events").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

# The values of safety.models' choices these rules read (Django-free here; tests/safety checks
# they match the models).
RETRACTED = "retracted"  # ecrf.crf.models.EntryStatus.RETRACTED
GRADE_DEATH = 5  # Grade.DEATH
FATAL = "fatal"  # Outcome.FATAL
RELATED = frozenset({"certain", "probable", "possible"})  # WHO-UMC categories counted as related
SERIOUSNESS_CRITERIA = (
    "serious_death", "serious_life_threatening", "serious_hospitalisation", "serious_disability",
    "serious_congenital_anomaly", "serious_important_medical_event",
)


class Coding(Protocol):
    """What the rules need of a MedDRA coding (safety.meddra.Coding)."""

    llt_code: int
    llt_name: str
    current: bool
    pt_code: int
    pt_name: str
    soc_code: int | None
    soc_name: str


def ae_errors(ae: Any, *, today: dt.date, now: dt.datetime, coding: Coding | None, died: dt.date | None) -> dict[str, str]:
    """The AE's bad-input rules, each naming the field to fix."""
    errors: dict[str, str] = {}
    if ae.onset_date and ae.onset_date > today + dt.timedelta(days=1):
        errors["onset_date"] = "The onset date is in the future."
    if ae.end_date and ae.onset_date and ae.end_date < ae.onset_date:
        errors["end_date"] = "The end date is before the onset date."
    if ae.aware_at and ae.aware_at > now + dt.timedelta(minutes=5):
        errors["aware_at"] = "The investigator cannot become aware in the future."
    if ae.grade == GRADE_DEATH and ae.outcome != FATAL:
        errors["grade"] = "Grade 5 means death related to this AE: set the outcome to fatal, or choose a lower grade."
    elif ae.grade == GRADE_DEATH and not ae.serious_death:
        errors["serious_death"] = "Grade 5 means death: tick the seriousness criterion 'results in death'."
    if ae.outcome == FATAL and ae.grade and ae.grade != GRADE_DEATH:
        errors["outcome"] = "A fatal outcome caused by this AE is CTCAE grade 5: set the grade to 5, or record the outcome the AE had."
    if ae.serious_death and ae.outcome != FATAL and "grade" not in errors:
        errors["outcome"] = "The criterion 'results in death' is ticked: the outcome must be fatal."
    errors.update({k: v for k, v in death_errors(ae.onset_date, ae.end_date, died).items() if k not in errors})
    criteria = [n for n in SERIOUSNESS_CRITERIA if getattr(ae, n)]
    if ae.serious and not criteria:
        errors["serious"] = "A serious event needs at least one seriousness criterion: tick the one that applies."
    elif criteria and not ae.serious:
        errors["serious"] = "A seriousness criterion is ticked: mark the event serious, or clear the criterion."
    if ae.serious:
        if not ae.causality_iv:
            errors["causality_iv"] = "Give the investigator's causality to the IV study drug: it is required for a serious event."
        if not ae.causality_sc:
            errors["causality_sc"] = "Give the investigator's causality to the SC study drug: it is required for a serious event."
    if ae.llt_code is not None:
        if coding is None:
            errors["llt_code"] = f"{ae.llt_code} is not a lowest level term of the loaded dictionary; use the coding suggestions."
        elif not coding.current:
            errors["llt_code"] = f"{coding.llt_name} ({coding.llt_code}) is not current; choose a current term."
    if ae.anemia and ae.hb_nadir_g_dl is None:
        errors["hb_nadir_g_dl"] = "Anemia is an event of special interest: give the hemoglobin nadir."
    if not ae.anemia and (ae.hb_nadir_g_dl is not None or ae.transfusion_units):
        errors["anemia"] = "Anemia details are filled in: tick anemia, or clear them."
    if ae.bleeding:
        if not ae.bleeding_site:
            errors["bleeding_site"] = "Bleeding is an event of special interest: give the bleeding site."
        if not ae.bleeding_severity:
            errors["bleeding_severity"] = "Bleeding is an event of special interest: give its severity."
    elif ae.bleeding_site or ae.bleeding_severity or ae.bleeding_intervention:
        errors["bleeding"] = "Bleeding details are filled in: tick bleeding, or clear them."
    return errors


def death_errors(onset_date: dt.date | None, end_date: dt.date | None, died: dt.date | None) -> dict[str, str]:
    """Hard errors against a death already recorded: dates after it are certainly wrong."""
    if died is None:
        return {}
    errors = {}
    if onset_date and onset_date > died:
        errors["onset_date"] = f"The onset date is after the participant's recorded death ({died:%Y-%m-%d}); check both dates."
    if end_date and end_date > died:
        errors["end_date"] = f"The end date is after the participant's recorded death ({died:%Y-%m-%d}); check both dates."
    return errors


def death_check(*, status: str, grade: int | None, outcome: str, onset_date: dt.date | None, died: dt.date | None) -> str:
    """The soft check against the Death form (module docstring): blank when consistent."""
    if status == RETRACTED:
        return ""
    fatal = grade == GRADE_DEATH or outcome == FATAL
    if fatal and died is None:
        return "This AE is fatal but no death is recorded for the participant yet: enter the Death form."
    if died is not None and onset_date and onset_date > died:
        return f"The recorded death ({died:%Y-%m-%d}) is before this AE's onset: check both dates."
    return ""


def treatment_emergent(onset: dt.date | None, first_dose_date: dt.date | None, window_days: int) -> bool | None:
    """safety.md: onset on or after the first dose, up to day 30 (site calendar dates).

    ``None`` while no dose is recorded (not derivable yet)."""
    if first_dose_date is None or onset is None:
        return None
    return first_dose_date <= onset <= first_dose_date + dt.timedelta(days=window_days)


@dataclass(frozen=True)
class Derived:
    related_iv: bool | None
    related_sc: bool | None
    pt_code: int | None
    pt_name: str
    soc_code: int | None
    soc_name: str
    exemption: str


def derived_coding(*, causality_iv: str, causality_sc: str, coding: Coding | None,
                   exempt_pt_codes: frozenset[int] | tuple[int, ...] | list[int]) -> Derived:
    """Relatedness from the WHO-UMC causality, the MedDRA hierarchy, and the protocol's
    exemption (CTR Art. 41(2)) of the coded preferred term."""
    exemption = ""
    if coding and coding.pt_code in exempt_pt_codes:
        exemption = (f"Protocol exemption (CTR Art. 41(2)): {coding.pt_name} is on the protocol's list of serious events "
                     "recorded but not reported within 24 hours.")
    return Derived(
        related_iv=(causality_iv in RELATED) if causality_iv else None,
        related_sc=(causality_sc in RELATED) if causality_sc else None,
        pt_code=coding.pt_code if coding else None, pt_name=coding.pt_name if coding else "",
        soc_code=coding.soc_code if coding else None, soc_name=coding.soc_name if coding else "",
        exemption=exemption,
    )
