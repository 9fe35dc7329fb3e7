"""ADaM (ADaMIG 1.3) from the package's SDTM: ADSL and the SOFA endpoint dataset ADSOFA. No Django.

The endpoint rules are the SOFA app's, not a copy: each participant's day-1 baseline, the days
2..15 as imputed (LOCF, death = 24) and the response are computed by
``ecrf.sofa.endpoints.derive_sofa_endpoints`` from the SDTM records (RS totals, DM death and
first dose), so that ADSOFA is traceable to SDTM (SRCDOM / SRCVAR / SRCSEQ on every observed
record) and equal to the endpoints the SOFA app stores.

Conventions follow the pharmaverse ``admiral`` BDS layout: PARAMCD / PARAM, AVAL, AVISIT /
AVISITN, ABLFL, BASE, CHG, DTYPE for imputed records ("LOCF"; "DEATH" for the SAP's 24 from the
day of death on, an extension of the DTYPE code list), CRIT1 / CRIT1FL for the responder flag.

Blinded packages: ADSL has no TRT01P / TRT01A (nor their numeric twins); nothing else in ADaM
depends on the arm, so the blinded ADaM of two worlds that differ only by the arms are identical.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from ecrf.analysis import terminology as ct
from ecrf.analysis.sdtm import StudyData, _v, day_one, study_dy, usubjid
from ecrf.analysis.xpt import Dataset, Value, Variable, sort_rows
from ecrf.sofa.endpoints import (
    DATA_STATUS,
    SOURCE_DEATH,
    SOURCE_LOCF,
    SOURCE_OBSERVED,
    SofaEndpoints,
    SofaRecord,
    derive_sofa_endpoints,
    observed_sofa,
    reason_message,
)

SAS_EPOCH = date(1960, 1, 1)
PARAM_SOFA = ("SOFA", "SOFA Total Score")
PARAM_MEAN = ("SOFAM29", "Mean SOFA Total Score Days 2-9")
PARAM_RESPONSE = ("SOFAR29", "SOFA Response Day 1 - Mean Days 2-9")
PARAM_RESPONSE_SEC = ("SOFAR215", "SOFA Response Day 1 - Mean Days 2-15")
DTYPE_OF = {SOURCE_LOCF: "LOCF", SOURCE_DEATH: "DEATH"}
EVAL_REASON = {"no_day1_sofa": "NO DAY-1 SOFA"}
MITT_REASON = {"no_dose": "NO DOSE OF STUDY DRUG"}


def sas_date(value: date | None) -> float | None:
    """A SAS date (days since 1960-01-01), the ADaM numeric date."""
    return None if value is None else float((value - SAS_EPOCH).days)


def _local_date(iso: Value) -> date | None:
    """The date part of an SDTM --DTC (already in the site's local time)."""
    if not iso:
        return None
    text = str(iso)
    return date.fromisoformat(text[:10]) if len(text) >= 10 else None


def _sdtm(datasets: list[Dataset], name: str) -> Dataset:
    return next(d for d in datasets if d.name == name)


def endpoint_inputs(data: StudyData, sdtm: list[Dataset]) -> dict[str, dict[str, Any]]:
    """Per USUBJID, the endpoint inputs read back from SDTM: RS totals by day (with their RSSEQ),
    the study day of death (DM.DTHDTC), and whether a dose was given (DM.RFXSTDTC)."""
    dm = {r["USUBJID"]: r for r in _sdtm(sdtm, "DM").rows}
    totals: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for r in _sdtm(sdtm, "RS").rows:
        if r["RSTESTCD"] == ct.SOFA_TOTAL_TESTCD and r["RSSTRESN"] is not None:
            totals[str(r["USUBJID"])].append((int(r["VISITNUM"]), int(r["RSSTRESN"]), int(r["RSSEQ"])))
    out: dict[str, dict[str, Any]] = {}
    for s in data.subjects:
        if s["randomized_at"] is None:
            continue
        key = usubjid(data, s)
        row = dm[key]
        death_date = _local_date(row["DTHDTC"])
        out[key] = {
            "subject": s,
            "records": [SofaRecord(day=day, total=total, status=DATA_STATUS) for day, total, _ in totals[key]],
            "rsseq": {day: seq for day, _, seq in totals[key]},
            "death_day": study_dy(death_date, s),
            "dosed": bool(row["RFXSTDTC"]),
            "first_dose": _local_date(row["RFXSTDTC"]),
            "death_date": death_date,
        }
    return out


def derive(data: StudyData, inputs: dict[str, Any]) -> SofaEndpoints:
    return derive_sofa_endpoints(sofa_by_day=observed_sofa(inputs["records"]), death_day=inputs["death_day"],
                                 received_any_dose=inputs["dosed"], protocol=data.protocol)


def _vital(data: StudyData) -> dict[tuple[int, int], str]:
    return {(v["participant_id"], v["day"]): v["vital_status"] for v in data.vital_status}


def _status_on(day: int, death_day: int | None, vital: dict[tuple[int, int], str], pid: int) -> str:
    """Vital status on study day ``day``: dead if death on or before it; else the assessment."""
    if death_day is not None and death_day <= day:
        return "DEAD"
    return {"alive": "ALIVE", "dead": "DEAD"}.get(vital.get((pid, day), ""), "UNKNOWN")


def build_adsl(data: StudyData, sdtm: list[Dataset]) -> Dataset:
    inputs = endpoint_inputs(data, sdtm)
    dm = {r["USUBJID"]: r for r in _sdtm(sdtm, "DM").rows}
    vital = _vital(data)
    rows = []
    for key, inp in inputs.items():
        s = inp["subject"]
        result = derive(data, inp)
        d28 = _status_on(28, inp["death_day"], vital, s["id"])
        d90 = _status_on(90, inp["death_day"], vital, s["id"])
        row: dict[str, Value] = {
            "STUDYID": data.study_code, "USUBJID": key, "SUBJID": dm[key]["SUBJID"], "SITEID": s["site_code"],
            "COUNTRY": dm[key]["COUNTRY"], "AGE": dm[key]["AGE"], "AGEU": dm[key]["AGEU"], "SEX": dm[key]["SEX"],
            "PHENO": (s["phenotype"] or "").upper() or None,
            "RANDDT": sas_date(day_one(s)), "TRTSDT": sas_date(inp["first_dose"]),
            "RANDFL": "Y", "MITTFL": "Y" if result.mitt else "N",
            "MITTRS": MITT_REASON.get(result.mitt_reason or "") if result.mitt_reason else None,
            "EVALFL": "Y" if result.evaluable else "N",
            "EVALRS": EVAL_REASON.get(result.not_evaluable_reason or "") if result.not_evaluable_reason else None,
            "DTHFL": "Y" if inp["death_day"] is not None else "N", "DTHDT": sas_date(inp["death_date"]),
            "DTHDY": float(inp["death_day"]) if inp["death_day"] is not None else None,
            "D28STAT": d28, "D28DTHFL": "Y" if d28 == "DEAD" else "N",
            "D90STAT": d90, "D90DTHFL": "Y" if d90 == "DEAD" else "N",
        }
        if not data.blinded:
            assert data.arms is not None
            code, name = ct.ARMS[data.arms[s["id"]]]
            row.update({"TRT01P": name, "TRT01PN": 1.0 if code == "ACTIVE" else 2.0,
                        "TRT01A": name if result.mitt else None,
                        "TRT01AN": (1.0 if code == "ACTIVE" else 2.0) if result.mitt else None})
        rows.append(row)
    variables: list[Variable] = [
        _v("STUDYID", "Study Identifier", origin="Predecessor"), _v("USUBJID", "Unique Subject Identifier", origin="Predecessor"),
        _v("SUBJID", "Subject Identifier for the Study", origin="Predecessor"),
        _v("SITEID", "Study Site Identifier", origin="Predecessor"), _v("COUNTRY", "Country", origin="Predecessor"),
        _v("AGE", "Age", "integer", origin="Predecessor"), _v("AGEU", "Age Units", origin="Predecessor"),
        _v("SEX", "Sex", origin="Predecessor", codelist="SEX"),
        _v("PHENO", "Immune Phenotype at Randomization", origin="Collected"),
        _v("RANDDT", "Date of Randomization", "date", origin="Derived", method="RANDDT"),
        _v("TRTSDT", "Date of First Exposure to Treatment", "date", origin="Derived", method="TRTSDT"),
        _v("RANDFL", "Randomized Population Flag", origin="Derived", codelist="NY"),
        _v("MITTFL", "Modified Intent-To-Treat Population Flag", origin="Derived", method="MITTFL", codelist="NY"),
        _v("MITTRS", "Reason Not in mITT Population", origin="Derived", method="MITTFL"),
        _v("EVALFL", "SOFA Evaluable Flag", origin="Derived", method="EVALFL", codelist="NY"),
        _v("EVALRS", "Reason Not SOFA Evaluable", origin="Derived", method="EVALFL"),
        _v("DTHFL", "Subject Death Flag", origin="Predecessor", codelist="NY"),
        _v("DTHDT", "Date of Death", "date", origin="Derived", method="DTHDT"),
        _v("DTHDY", "Study Day of Death", "integer", origin="Derived", method="DY"),
        _v("D28STAT", "Vital Status on Day 28", origin="Derived", method="DXXSTAT"),
        _v("D28DTHFL", "Death by Day 28 Flag", origin="Derived", method="DXXSTAT", codelist="NY"),
        _v("D90STAT", "Vital Status on Day 90", origin="Derived", method="DXXSTAT"),
        _v("D90DTHFL", "Death by Day 90 Flag", origin="Derived", method="DXXSTAT", codelist="NY"),
    ]
    if not data.blinded:
        variables += [_v("TRT01P", "Planned Treatment for Period 01", origin="Derived", method="TRT01P"),
                      _v("TRT01PN", "Planned Treatment for Period 01 (N)", "integer", origin="Derived", method="TRT01P"),
                      _v("TRT01A", "Actual Treatment for Period 01", origin="Derived", method="TRT01A"),
                      _v("TRT01AN", "Actual Treatment for Period 01 (N)", "integer", origin="Derived", method="TRT01A")]
    return Dataset(name="ADSL", label="Subject-Level Analysis Dataset", variables=tuple(variables),
                   rows=sort_rows(rows, ("USUBJID",)), keys=("STUDYID", "USUBJID"),
                   structure="One record per randomized subject", klass="SUBJECT LEVEL ANALYSIS DATASET")


def _decimal_float(value: Any) -> float | None:
    return None if value is None else float(value)


def build_adsofa(data: StudyData, sdtm: list[Dataset]) -> Dataset:
    inputs = endpoint_inputs(data, sdtm)
    rows: list[dict[str, Value]] = []
    for key, inp in inputs.items():
        s = inp["subject"]
        result = derive(data, inp)
        base = result.filled_series[0].score if result.evaluable else None
        flags: dict[str, Value] = {"STUDYID": data.study_code, "USUBJID": key, "SITEID": s["site_code"],
                                   "MITTFL": "Y" if result.mitt else "N", "EVALFL": "Y" if result.evaluable else "N",
                                   "EVALRS": EVAL_REASON.get(result.not_evaluable_reason or "")
                                   if result.not_evaluable_reason else None}
        first = day_one(s)
        for day in result.filled_series:
            if day.score is None:
                continue  # never guessed: days before a first form of a participant with no day 1
            observed = day.source == SOURCE_OBSERVED
            adt = None if first is None else sas_date(date.fromordinal(first.toordinal() + day.day - 1))
            rows.append({**flags, "PARAMCD": PARAM_SOFA[0], "PARAM": PARAM_SOFA[1], "AVISITN": float(day.day),
                         "AVISIT": f"DAY {day.day}", "ADY": float(day.day), "ADT": adt, "AVAL": float(day.score),
                         "AVALC": None, "ABLFL": "Y" if day.day == 1 and observed else None,
                         "BASE": _decimal_float(base), "CHG": None if base is None else float(day.score - base),
                         "DTYPE": None if observed else DTYPE_OF[day.source],
                         "SRCDOM": "RS" if observed else None, "SRCVAR": "RSSTRESN" if observed else None,
                         "SRCSEQ": float(inp["rsseq"][day.day]) if observed else None,
                         "CRIT1": None, "CRIT1FL": None})
        threshold = data.protocol.responder_threshold
        if result.evaluable:
            mean29 = base - result.primary_response_exact if base is not None and result.primary_response_exact is not None \
                else None
            rows.append({**flags, "PARAMCD": PARAM_MEAN[0], "PARAM": PARAM_MEAN[1], "AVISITN": None, "AVISIT": "DAYS 2-9",
                         "ADY": None, "ADT": None, "AVAL": None if mean29 is None else float(mean29), "AVALC": None,
                         "ABLFL": None, "BASE": None, "CHG": None, "DTYPE": "AVERAGE", "SRCDOM": None, "SRCVAR": None,
                         "SRCSEQ": None, "CRIT1": None, "CRIT1FL": None})
        label = "RESPONDER" if result.responder else ("NON-RESPONDER" if result.evaluable else "NOT EVALUABLE")
        rows.append({**flags, "PARAMCD": PARAM_RESPONSE[0], "PARAM": PARAM_RESPONSE[1], "AVISITN": None,
                     "AVISIT": "DAYS 2-9", "ADY": None, "ADT": None, "AVAL": _decimal_float(result.primary_response),
                     "AVALC": label, "ABLFL": None, "BASE": _decimal_float(base), "CHG": None, "DTYPE": None,
                     "SRCDOM": None, "SRCVAR": None, "SRCSEQ": None, "CRIT1": f"Response > {threshold}",
                     # SAP: a not-evaluable participant counts as a non-responder.
                     "CRIT1FL": "Y" if result.responder else "N"})
        rows.append({**flags, "PARAMCD": PARAM_RESPONSE_SEC[0], "PARAM": PARAM_RESPONSE_SEC[1], "AVISITN": None,
                     "AVISIT": "DAYS 2-15", "ADY": None, "ADT": None, "AVAL": _decimal_float(result.secondary_response),
                     "AVALC": None, "ABLFL": None, "BASE": _decimal_float(base), "CHG": None, "DTYPE": None,
                     "SRCDOM": None, "SRCVAR": None, "SRCSEQ": None, "CRIT1": f"Response > {threshold}",
                     "CRIT1FL": "Y" if result.secondary_responder else "N"})
    rows = sorted(rows, key=lambda r: (r["USUBJID"], r["PARAMCD"], -1 if r["AVISITN"] is None else r["AVISITN"]))
    variables = (
        _v("STUDYID", "Study Identifier", origin="Predecessor"), _v("USUBJID", "Unique Subject Identifier", origin="Predecessor"),
        _v("SITEID", "Study Site Identifier", origin="Predecessor"),
        _v("MITTFL", "Modified Intent-To-Treat Population Flag", origin="Predecessor", codelist="NY"),
        _v("EVALFL", "SOFA Evaluable Flag", origin="Predecessor", codelist="NY"),
        _v("EVALRS", "Reason Not SOFA Evaluable", origin="Predecessor"),
        _v("PARAMCD", "Parameter Code", origin="Assigned"), _v("PARAM", "Parameter", origin="Assigned"),
        _v("AVISITN", "Analysis Visit (N)", "integer", origin="Derived", method="AVISIT"),
        _v("AVISIT", "Analysis Visit", origin="Derived", method="AVISIT"),
        _v("ADY", "Analysis Relative Day", "integer", origin="Derived", method="AVISIT"),
        _v("ADT", "Analysis Date", "date", origin="Derived", method="ADT"),
        _v("AVAL", "Analysis Value", "float", origin="Derived", method="AVAL"),
        _v("AVALC", "Analysis Value (C)", origin="Derived", method="AVAL"),
        _v("ABLFL", "Baseline Record Flag", origin="Derived", method="ABLFL", codelist="NY"),
        _v("BASE", "Baseline Value", "float", origin="Derived", method="ABLFL"),
        _v("CHG", "Change from Baseline", "float", origin="Derived", method="CHG"),
        _v("DTYPE", "Derivation Type", origin="Derived", method="AVAL"),
        _v("SRCDOM", "Source Data", origin="Derived"), _v("SRCVAR", "Source Variable", origin="Derived"),
        _v("SRCSEQ", "Source Sequence Number", "integer", origin="Derived"),
        _v("CRIT1", "Analysis Criterion 1", origin="Assigned"),
        _v("CRIT1FL", "Criterion 1 Evaluation Result Flag", origin="Derived", method="CRIT1FL", codelist="NY"),
    )
    return Dataset(name="ADSOFA", label="SOFA Analysis Dataset", variables=variables, rows=rows,
                   keys=("STUDYID", "USUBJID", "PARAMCD", "AVISITN"),
                   structure="One record per subject per parameter per analysis visit", klass="BASIC DATA STRUCTURE")


def build_adam(data: StudyData, sdtm: list[Dataset]) -> list[Dataset]:
    return [build_adsl(data, sdtm), build_adsofa(data, sdtm)]


__all__ = ["build_adam", "build_adsl", "build_adsofa", "endpoint_inputs", "reason_message", "sas_date"]
