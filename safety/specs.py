"""The adverse-event CRF, declared once (CONTRIBUTING.md "specs.py").

AE and death (issue 7 "Bad input"; the AE and Death forms are entered in either order, by
different people, often days apart):

- Within the AE form, hard errors (400, nothing stored): grade 5 needs the outcome "fatal" and the
  criterion "results in death"; a fatal outcome caused by the AE needs grade 5.
- Against the Death form (``ecrf.outcomes.selectors.death_for``, submitted deaths only):
  * hard errors when the death is already recorded as the AE is saved, because the entry is
    then certainly wrong: an onset date, or an end date, after the date of death (site zone);
  * a *soft* check otherwise, the derived ``death_check`` message (blank when consistent): a
    grade 5 or fatal AE while no death is recorded yet ("enter the Death form"), or a death
    recorded later with a date before this AE's onset. It never blocks either form (the other
    one may simply not be entered yet); it shows on the AE page, in the AE list and API, and as
    a home-page task for the site. It is re-derived when the AE is saved and, through a signal,
    whenever the participant's Death form is saved (audited as its own history entry, without a
    new AE version, so adjudication is not reopened by it).
- A death without any fatal AE is not flagged: a death from sepsis may be an exempted efficacy
  endpoint recorded only on the Death form (safety.md "Exempted events").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from ecrf.crf.models import EntryStatus
from ecrf.crf.registry import FormSpec, register
from ecrf.study.services import current_protocol
from safety import links
from safety.models import RELATED, SERIOUSNESS_CRITERIA, AdverseEvent, Grade, Outcome

AE_FIELDS = (
    "verbatim_term", "llt_code", "onset_date", "end_date", "grade", "serious", *SERIOUSNESS_CRITERIA, "outcome",
    "action_iv", "action_sc", "causality_iv", "causality_sc", "aware_at",
    "anemia", "hb_nadir_g_dl", "transfusion_units", "bleeding", "bleeding_site", "bleeding_severity", "bleeding_intervention",
)
AE_DERIVED = ("related_iv", "related_sc", "pt_code", "pt_name", "soc_code", "soc_name", "exemption", "treatment_emergent",
              "death_check")


def validate_ae(ae: AdverseEvent) -> dict[str, str]:
    """The AE's "Bad input" rules (issue 7), each naming the field to fix."""
    from safety.meddra import coding_for

    errors: dict[str, str] = {}
    today = timezone.localdate()
    if ae.onset_date and ae.onset_date > today + timedelta(days=1):
        errors["onset_date"] = "The onset date is in the future."
    if ae.end_date and ae.onset_date and ae.end_date < ae.onset_date:
        errors["end_date"] = "The end date is before the onset date."
    if ae.aware_at and ae.aware_at > timezone.now() + timedelta(minutes=5):
        errors["aware_at"] = "The investigator cannot become aware in the future."
    if ae.grade == Grade.DEATH and ae.outcome != Outcome.FATAL:
        errors["grade"] = "Grade 5 means death related to this AE: set the outcome to fatal, or choose a lower grade."
    elif ae.grade == Grade.DEATH and not ae.serious_death:
        errors["serious_death"] = "Grade 5 means death: tick the seriousness criterion 'results in death'."
    if ae.outcome == Outcome.FATAL and ae.grade and ae.grade != Grade.DEATH:
        errors["outcome"] = "A fatal outcome caused by this AE is CTCAE grade 5: set the grade to 5, or record the outcome the AE had."
    if ae.serious_death and ae.outcome != Outcome.FATAL and "grade" not in errors:
        errors["outcome"] = "The criterion 'results in death' is ticked: the outcome must be fatal."
    errors.update({k: v for k, v in _death_errors(ae).items() if k not in errors})
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
        coding = coding_for(ae.llt_code)
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


def death_date(participant: Any) -> Any:
    """The date of the participant's recorded (submitted) death in the site's zone, or None."""
    from zoneinfo import ZoneInfo

    death = links.death_for(participant)
    if death is None or getattr(death, "died_at", None) is None:
        return None
    return death.died_at.astimezone(ZoneInfo(participant.site.time_zone)).date()


def _death_errors(ae: AdverseEvent) -> dict[str, str]:
    died = death_date(ae.participant) if ae.participant_id else None
    if died is None:
        return {}
    errors = {}
    if ae.onset_date and ae.onset_date > died:
        errors["onset_date"] = f"The onset date is after the participant's recorded death ({died:%Y-%m-%d}); check both dates."
    if ae.end_date and ae.end_date > died:
        errors["end_date"] = f"The end date is after the participant's recorded death ({died:%Y-%m-%d}); check both dates."
    return errors


def death_check(ae: AdverseEvent, died: Any) -> str:
    """The soft check against the Death form (module docstring): blank when consistent."""
    if ae.status == EntryStatus.RETRACTED:
        return ""
    fatal = ae.grade == Grade.DEATH or ae.outcome == Outcome.FATAL
    if fatal and died is None:
        return "This AE is fatal but no death is recorded for the participant yet: enter the Death form."
    if died is not None and ae.onset_date and ae.onset_date > died:
        return f"The recorded death ({died:%Y-%m-%d}) is before this AE's onset: check both dates."
    return ""


def derive_ae(ae: AdverseEvent) -> None:
    from safety.meddra import coding_for

    ae.related_iv = (ae.causality_iv in RELATED) if ae.causality_iv else None
    ae.related_sc = (ae.causality_sc in RELATED) if ae.causality_sc else None
    coding = coding_for(ae.llt_code)
    ae.pt_code = coding.pt_code if coding else None
    ae.pt_name = coding.pt_name if coding else ""
    ae.soc_code = coding.soc_code if coding else None
    ae.soc_name = coding.soc_name if coding else ""
    protocol = current_protocol()
    if coding and coding.pt_code in protocol.sae_exempt_pt_codes:
        ae.exemption = (f"Protocol exemption (CTR Art. 41(2)): {coding.pt_name} is on the protocol's list of serious events "
                        "recorded but not reported within 24 hours.")
    else:
        ae.exemption = ""
    ae.death_check = death_check(ae, death_date(ae.participant))
    ae.treatment_emergent = treatment_emergent(ae.onset_date, links.first_dose_at(ae.participant),
                                               ae.participant.site.time_zone, protocol.safety_window_days)


def treatment_emergent(onset: Any, first_dose: Any, tz: str, window_days: int) -> bool | None:
    """safety.md: onset on or after the first dose, up to day 30 (site calendar dates).

    ``None`` while no dose is recorded (not derivable yet)."""
    if first_dose is None or onset is None:
        return None
    from zoneinfo import ZoneInfo

    first = first_dose.astimezone(ZoneInfo(tz)).date()
    return first <= onset <= first + timedelta(days=window_days)


AE_SPEC = register(
    FormSpec(
        key="safety.adverse_event",
        model=AdverseEvent,
        fields=AE_FIELDS,
        derived_fields=AE_DERIVED,
        slug="adverse-events",
        label="Adverse event",
        one_per=None,
        validate=validate_ae,
        derive=derive_ae,
    )
)

_ = EntryStatus
