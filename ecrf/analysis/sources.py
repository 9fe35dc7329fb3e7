"""The package's clinical data as plain values for the SDTM builders: set-based reads.

One query per table for all the package's participants (the benchmark's 10,000 participants
cost the same number of queries as one). Only submitted forms are data (the trial team's rule,
the one ``ecrf.sofa.endpoints`` applies): drafts, retracted and "not done" forms are left out.
The arm is read only for an unblinded package, and only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ecrf.analysis.sdtm import StudyData
from ecrf.crf.models import EntryStatus, Participant
from ecrf.dosing.models import Administration
from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.units import LOCAL_ANALYTES
from ecrf.medications.models import ConcomitantMedication
from ecrf.randomization.models import Assignment
from ecrf.outcomes.models import Death, EndOfStudy, NewInfection, VitalStatus
from ecrf.screening.models import CentralLabResult, Consent, ConsentDecision, Screening
from ecrf.sofa.models import SofaDay
from ecrf.study.models import Study
from ecrf.study.services import current_protocol
from safety.models import AdverseEvent
from ecrf.deviations.models import Deviation
from ecrf.exports.tables import latest_as_of

SUBMITTED = EntryStatus.SUBMITTED


def _rows(model: Any, ids: Sequence[int], as_of: datetime, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The submitted ``model`` rows of the participants as they stood at ``as_of`` (the package's
    time), read from the table's history the way the rest of the package is: a study lock's
    package and a data cut's snapshot both show what was recorded then, not what was written
    later."""
    names = ["participant_id", "status", *fields]
    rows = [r for page in latest_as_of(model.history.model, as_of, {"participant_id__in": list(ids)}, names)
            for r in page if r["status"] == SUBMITTED]
    rows.sort(key=lambda r: (r["participant_id"], r["id"]))
    return [{"id": r["id"], "participant_id": r["participant_id"], **{f: r[f] for f in fields}} for r in rows]


def _arms(ids: Sequence[int]) -> dict[int, str]:
    # Unblinded packages only: the one place the analysis reads the allocation.
    return dict(Assignment.objects.filter(participant_id__in=ids).values_list("participant_id", "slot__arm"))


def study_data(*, participant_ids: Sequence[int], as_of: datetime, blinded: bool) -> StudyData:
    ids = list(participant_ids)
    study = Study.objects.current()
    participants = (Participant.objects.filter(pk__in=ids).order_by("pk")
                    .values("id", "screening_number", "subject_id", "randomized_at", "site__code", "site__country",
                            "site__time_zone"))
    screening = {r["participant_id"]: r for r in _rows(Screening, ids, as_of, (
        "age", "sex", "sepsis3_at", "infection_source", "covid19", "phenotype", "eligibility", "ineligibility_reasons"))}
    consent: dict[int, datetime] = {}
    for r in _rows(Consent, ids, as_of, ("consented_at", "decision")):
        if r["decision"] == ConsentDecision.GIVEN:
            consent.setdefault(r["participant_id"], r["consented_at"])
    labs = {r["participant_id"]: r for r in _rows(CentralLabResult, ids, as_of, (
        "ferritin", "ferritin_unit", "ferritin_sampled_at", "hla_dr", "hla_dr_sampled_at"))}
    subjects = []
    for p in participants:
        s = screening.get(p["id"], {})
        lab = labs.get(p["id"], {})
        subjects.append({
            "id": p["id"], "screening_number": p["screening_number"], "subject_id": p["subject_id"],
            "site_code": p["site__code"], "country": p["site__country"], "tz": p["site__time_zone"],
            "randomized_at": p["randomized_at"], "age": s.get("age"), "sex": s.get("sex"),
            "sepsis3_at": s.get("sepsis3_at"), "infection_source": s.get("infection_source"),
            "covid19": s.get("covid19"), "phenotype": s.get("phenotype"), "eligibility": s.get("eligibility"),
            "ineligibility_reasons": s.get("ineligibility_reasons") or [], "consented_at": consent.get(p["id"]),
            "ferritin": lab.get("ferritin"), "ferritin_sampled_at": lab.get("ferritin_sampled_at"),
            "hla_dr": lab.get("hla_dr"), "hla_dr_sampled_at": lab.get("hla_dr_sampled_at"),
        })
    local_fields = [f for a in LOCAL_ANALYTES for f in (a, f"{a}_unit", f"{a}_low", f"{a}_high")]
    return StudyData(
        study_code=study.code if study else "STUDY",
        study_title=study.title if study else "",
        protocol=current_protocol(),
        as_of=as_of,
        subjects=subjects,
        administrations=_rows(Administration, ids, as_of, ("route", "dose_number", "given", "reason_not_given", "started_at",
                                                    "duration_minutes", "volume_ml", "study_day")),
        deaths=_rows(Death, ids, as_of, ("died_at", "cause", "study_day")),
        vital_status=_rows(VitalStatus, ids, as_of, ("day", "vital_status", "assessed_on")),
        end_of_study=_rows(EndOfStudy, ids, as_of, ("disposition", "disposition_date")),
        infections=_rows(NewInfection, ids, as_of, ("onset_date", "infection_site", "organism", "diagnosed_by", "study_day")),
        adverse_events=_rows(AdverseEvent, ids, as_of, (
            "verbatim_term", "llt_code", "pt_code", "pt_name", "soc_code", "soc_name", "onset_date", "end_date", "grade",
            "serious", "serious_death", "serious_life_threatening", "serious_hospitalisation", "serious_disability",
            "serious_congenital_anomaly", "serious_important_medical_event", "outcome", "action_iv", "action_sc",
            "causality_iv", "causality_sc", "treatment_emergent", "anemia", "hb_nadir_g_dl", "transfusion_units",
            "bleeding", "bleeding_site", "bleeding_severity", "bleeding_intervention")),
        medications=_rows(ConcomitantMedication, ids, as_of, (
            "drug", "indication", "dose", "dose_unit", "route", "started_on", "stopped_on", "is_corticosteroid",
            "is_vasopressor", "is_antimicrobial")),
        lab_panels=_rows(LabPanel, ids, as_of, ("day", "sample_time", *local_fields)),
        central_labs=_rows(CentralLab, ids, as_of, ("day", "sample_time", "ferritin", "ferritin_unit", "hla_dr")),
        sofa_days=_rows(SofaDay, ids, as_of, ("day", "respiration", "coagulation", "liver", "cardiovascular", "cns", "renal",
                                       "total")),
        deviations=_rows(Deviation, ids, as_of, ("category", "description", "occurred_on", "found_by", "impact")),
        arms=None if blinded else _arms(ids),
    )
