"""SDTM (SDTMIG 3.4) datasets from the package's clinical data: pure builders, no Django.

Each builder takes the ``StudyData`` read once per package (``ecrf.analysis.sources``: one
set-based query per table, submitted forms only, the package's participants only) and returns a
``Dataset`` whose rows are sorted by its keys and numbered by ``--SEQ``.

Time (ARCHITECTURE.md "Time"): every ``--DTC`` is ISO 8601 in the site's local time, so that
``--DY`` matches the study day the site saw: day 1 is the calendar date of randomization in the
site's zone, RFSTDTC is therefore the randomization time (the first dose, which follows it at
once, is RFXSTDTC), and ``--DY`` is date - day 1 + 1 on or after day 1, date - day 1 before it
(SDTM has no day 0: the project's screening "day 0" is --DY -1).

Blinding: a blinded package (``StudyData.arms is None``) carries no arm, no product and nothing
that implies one: DM's arm variables are null with ARMNRS "BLINDED", exposure is EC (the blinded
"IV STUDY DRUG" and "SC STUDY DRUG" as collected), and EX is not built.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ecrf.analysis import terminology as ct
from ecrf.analysis.xpt import Dataset, Value, Variable, add_seq, sort_rows
from ecrf.labs.units import UNITS
from ecrf.screening.eligibility import EXCLUSION_CODES, reason_label
from ecrf.study.protocol import Protocol

Row = Mapping[str, Any]


@dataclass(frozen=True)
class StudyData:
    """Everything the SDTM builders read, as plain values (``ecrf.analysis.sources`` fills it).

    ``subjects``: one row per participant of the package with the keys ``id``, ``screening_number``,
    ``subject_id``, ``site_code``, ``country``, ``tz``, ``randomized_at``, ``age``, ``sex``,
    ``sepsis3_at``, ``infection_source``, ``covid19``, ``phenotype``, ``eligibility``,
    ``ineligibility_reasons``, ``consented_at``, ``ferritin``, ``ferritin_sampled_at``, ``hla_dr``,
    ``hla_dr_sampled_at``. The other lists hold one row per submitted form of their table.
    ``arms``: participant id -> "active" / "placebo", only in an unblinded package (else None).
    """

    study_code: str
    study_title: str
    protocol: Protocol
    as_of: datetime
    subjects: Sequence[Row]
    administrations: Sequence[Row] = ()
    deaths: Sequence[Row] = ()
    vital_status: Sequence[Row] = ()
    end_of_study: Sequence[Row] = ()
    infections: Sequence[Row] = ()
    adverse_events: Sequence[Row] = ()
    medications: Sequence[Row] = ()
    lab_panels: Sequence[Row] = ()
    central_labs: Sequence[Row] = ()
    sofa_days: Sequence[Row] = ()
    deviations: Sequence[Row] = ()
    arms: Mapping[int, str] | None = None
    _subject_index: dict[int, Row] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._subject_index.update({s["id"]: s for s in self.subjects})

    @property
    def blinded(self) -> bool:
        return self.arms is None

    def subject(self, participant_id: int) -> Row:
        return self._subject_index[participant_id]


# --- values ---------------------------------------------------------------------------------


def usubjid(data: StudyData, subject: Row) -> str:
    return f"{data.study_code}-{subjid(subject)}"


def subjid(subject: Row) -> str:
    # A randomized participant is known by the subject ID; a screen failure by the screening number.
    return subject["subject_id"] or subject["screening_number"]


def local(moment: datetime | None, tz: str) -> datetime | None:
    return None if moment is None else moment.astimezone(ZoneInfo(tz))


def dtc(value: datetime | date | None, tz: str) -> str | None:
    """ISO 8601 in the site's local time, to the minute (a date stays a date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def day_one(subject: Row) -> date | None:
    moment = local(subject["randomized_at"], subject["tz"])
    return None if moment is None else moment.date()


def study_dy(value: datetime | date | None, subject: Row) -> int | None:
    """SDTM --DY: day 1 is the randomization date (site zone); no day 0."""
    first = day_one(subject)
    if value is None or first is None:
        return None
    when = value.astimezone(ZoneInfo(subject["tz"])).date() if isinstance(value, datetime) else value
    delta = (when - first).days
    return delta + 1 if delta >= 0 else delta


def num(value: Decimal | int | float | None) -> float | None:
    return None if value is None else float(value)


def text(value: Decimal | int | float | None) -> str | None:
    """A collected number as text (--ORRES): exactly as stored, without trailing zeros."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        normal = value.normalize()
        return format(normal, "f") if normal == normal.to_integral() or normal.as_tuple().exponent < 0 else str(value)
    return str(value)


def yn(flag: bool | None) -> str | None:
    return None if flag is None else ("Y" if flag else "N")


def ascii_text(value: str | None) -> str | None:
    """XPORT v5 is ASCII: common non-ASCII letters of free text are transliterated (the
    collected text stays in the package's crf/ files); anything else becomes '?'."""
    if value is None:
        return None
    out = unicodedata.normalize("NFKD", value).replace("µ", "u").replace("μ", "u")
    return "".join(ch if ord(ch) < 128 else ("" if unicodedata.combining(ch) else "?") for ch in out)


def _v(name: str, label: str, kind: str = "text", origin: str = "Collected", method: str = "",
       codelist: str = "") -> Variable:
    return Variable(name=name, label=label, type=kind, origin=origin, method=method, codelist=codelist)  # type: ignore[arg-type]


def _ids(domain: str) -> tuple[Variable, ...]:
    return (_v("STUDYID", "Study Identifier", origin="Assigned"), _v("DOMAIN", "Domain Abbreviation", origin="Assigned"),
            _v("USUBJID", "Unique Subject Identifier", origin="Derived", method="USUBJID"),
            _v(f"{domain}SEQ", "Sequence Number", "integer", origin="Derived", method="SEQ"))


def _finish(name: str, label: str, variables: tuple[Variable, ...], rows: list[dict[str, Value]], keys: tuple[str, ...],
            *, structure: str, klass: str, seq: bool = True) -> Dataset:
    ordered = sort_rows(rows, keys)
    if seq:
        add_seq(ordered, domain=name)
    return Dataset(name=name, label=label, variables=variables, rows=ordered,
                   keys=("STUDYID", "USUBJID", *[k for k in keys if k != "USUBJID"]), structure=structure, klass=klass)


def _base(data: StudyData, subject: Row, domain: str) -> dict[str, Value]:
    return {"STUDYID": data.study_code, "DOMAIN": domain, "USUBJID": usubjid(data, subject)}


# --- special purpose ------------------------------------------------------------------------


def build_dm(data: StudyData) -> Dataset:
    first_dose: dict[int, datetime] = {}
    last_dose: dict[int, datetime] = {}
    for a in data.administrations:
        if a["given"] and a["started_at"] is not None:
            pid = a["participant_id"]
            first_dose[pid] = min(first_dose.get(pid, a["started_at"]), a["started_at"])
            last_dose[pid] = max(last_dose.get(pid, a["started_at"]), a["started_at"])
    deaths = {d["participant_id"]: d for d in data.deaths}
    ends = {e["participant_id"]: e for e in data.end_of_study}
    rows = []
    for s in data.subjects:
        tz, pid = s["tz"], s["id"]
        arm = armcd = actarm = actarmcd = armnrs = None
        if s["randomized_at"] is None:
            armnrs = ct.ARM_NULL_SCREEN_FAILURE
        elif data.arms is None:
            armnrs = ct.ARM_NULL_BLINDED
        else:
            armcd, arm = ct.ARMS[data.arms[pid]]
            if pid in first_dose:
                actarmcd, actarm = armcd, arm
            else:
                armnrs = ct.ARM_NULL_NOT_TREATED
        death = deaths.get(pid)
        end = ends.get(pid)
        end_moment = death["died_at"] if death else (end["disposition_date"] if end else None)
        rows.append({
            **_base(data, s, "DM"), "SUBJID": subjid(s),
            "RFSTDTC": dtc(s["randomized_at"], tz), "RFENDTC": dtc(end_moment, tz),
            "RFXSTDTC": dtc(first_dose.get(pid), tz), "RFXENDTC": dtc(last_dose.get(pid), tz),
            "RFICDTC": dtc(s["consented_at"], tz), "RFPENDTC": dtc(end_moment, tz),
            "DTHDTC": dtc(death["died_at"], tz) if death else None, "DTHFL": "Y" if death else None,
            "SITEID": s["site_code"], "AGE": num(s["age"]), "AGEU": "YEARS" if s["age"] is not None else None,
            "SEX": ct.SEX.get(s["sex"]), "RACE": None,
            "ARMCD": armcd, "ARM": arm, "ACTARMCD": actarmcd, "ACTARM": actarm, "ARMNRS": armnrs, "ACTARMUD": None,
            "COUNTRY": ct.country_alpha3(s["country"]),
        })
    variables = (
        *(v for v in _ids("DM") if v.name != "DMSEQ"), _v("SUBJID", "Subject Identifier for the Study"),
        _v("RFSTDTC", "Subject Reference Start Date/Time", origin="Derived", method="RFSTDTC"),
        _v("RFENDTC", "Subject Reference End Date/Time", origin="Derived", method="RFENDTC"),
        _v("RFXSTDTC", "Date/Time of First Study Treatment", origin="Derived", method="RFXSTDTC"),
        _v("RFXENDTC", "Date/Time of Last Study Treatment", origin="Derived", method="RFXENDTC"),
        _v("RFICDTC", "Date/Time of Informed Consent"), _v("RFPENDTC", "Date/Time of End of Participation",
                                                          origin="Derived", method="RFENDTC"),
        _v("DTHDTC", "Date/Time of Death"), _v("DTHFL", "Subject Death Flag", origin="Derived", codelist="NY"),
        _v("SITEID", "Study Site Identifier"), _v("AGE", "Age", "integer"),
        _v("AGEU", "Age Units", origin="Assigned", codelist="AGEU"), _v("SEX", "Sex", codelist="SEX"),
        _v("RACE", "Race"), _v("ARMCD", "Planned Arm Code", origin="Assigned"),
        _v("ARM", "Description of Planned Arm", origin="Assigned"),
        _v("ACTARMCD", "Actual Arm Code", origin="Derived", method="ACTARM"),
        _v("ACTARM", "Description of Actual Arm", origin="Derived", method="ACTARM"),
        _v("ARMNRS", "Reason Arm and/or Actual Arm is Null", origin="Derived", method="ARMNRS", codelist="ARMNRS"),
        _v("ACTARMUD", "Description of Unplanned Actual Arm"), _v("COUNTRY", "Country", origin="Assigned"),
    )
    return _finish("DM", "Demographics", variables, rows, ("USUBJID",), structure="One record per subject",
                   klass="SPECIAL PURPOSE", seq=False)


def build_ts(data: StudyData) -> Dataset:
    randomized = sorted(dtc(s["randomized_at"], s["tz"]) or "" for s in data.subjects if s["randomized_at"])
    params: list[tuple[str, str, str]] = [
        ("TITLE", "Trial Title", data.study_title),
        ("STYPE", "Study Type", "INTERVENTIONAL"),
        ("TPHASE", "Trial Phase Classification", "PHASE II TRIAL"),
        ("RANDOM", "Trial is Randomized", "Y"),
        ("TBLIND", "Trial Blinding Schema", "DOUBLE BLIND"),
        ("TCNTRL", "Control Type", "PLACEBO"),
        ("INDIC", "Trial Disease/Condition Indication", "Sepsis"),
        ("AGEMIN", "Planned Minimum Age of Subjects", f"P{data.protocol.min_age_years}Y"),
        ("NARMS", "Planned Number of Arms", "2"),
        ("SDTIGVER", "SDTM IG Version", ct.SDTMIG_VERSION),
        ("SDTMVER", "SDTM Version", ct.SDTM_VERSION),
        ("DCUTDTC", "Data Cutoff Date", data.as_of.date().isoformat()),
    ]
    if randomized:
        params.append(("SSTDTC", "Study Start Date", randomized[0][:10]))
    rows = [{"STUDYID": data.study_code, "DOMAIN": "TS", "TSPARMCD": code, "TSPARM": name, "TSVAL": ascii_text(value)}
            for code, name, value in params]
    rows = sorted(rows, key=lambda r: str(r["TSPARMCD"]))
    for i, row in enumerate(rows, start=1):
        row["TSSEQ"] = 1
        row["TSSEQN"] = i  # kept apart so that TSSEQ stays 1 per parameter (one value each)
    variables = (_v("STUDYID", "Study Identifier", origin="Assigned"), _v("DOMAIN", "Domain Abbreviation", origin="Assigned"),
                 _v("TSSEQ", "Sequence Number", "integer", origin="Assigned"),
                 _v("TSPARMCD", "Trial Summary Parameter Short Name", origin="Assigned"),
                 _v("TSPARM", "Trial Summary Parameter", origin="Assigned"),
                 _v("TSVAL", "Parameter Value", origin="Assigned"))
    for row in rows:
        row.pop("TSSEQN")
    return Dataset(name="TS", label="Trial Summary", variables=variables, rows=rows, keys=("STUDYID", "TSPARMCD", "TSSEQ"),
                   structure="One record per trial summary parameter value", klass="TRIAL DESIGN")


# --- interventions --------------------------------------------------------------------------

EC_TREATMENT = {"iv": "IV STUDY DRUG", "sc": "SC STUDY DRUG"}


def build_ec(data: StudyData) -> Dataset:
    """Exposure as collected, blinded: the study drug per route, volume given, never a product."""
    rows = []
    for a in data.administrations:
        s = data.subject(a["participant_id"])
        tz = s["tz"]
        start = a["started_at"]
        end = None
        if start is not None and a["duration_minutes"] is not None:
            end = start + timedelta(minutes=a["duration_minutes"])
        rows.append({
            **_base(data, s, "EC"), "ECREFID": f"{a['route'].upper()}-{a['dose_number']:03d}",
            "ECTRT": EC_TREATMENT[a["route"]], "ECMOOD": "PERFORMED",
            "ECPRESP": "Y", "ECOCCUR": "Y" if a["given"] else "N",
            "ECREASOC": ascii_text(a["reason_not_given"] or None) if not a["given"] else None,
            "ECDOSE": num(a["volume_ml"]) if a["given"] else None, "ECDOSU": "mL" if a["given"] and a["volume_ml"] else None,
            "ECROUTE": ct.ROUTE[a["route"]],
            "ECSTDTC": dtc(start, tz), "ECENDTC": dtc(end, tz),
            "ECSTDY": study_dy(start, s), "ECENDY": study_dy(end, s),
        })
    variables = (*_ids("EC"), _v("ECREFID", "Reference ID", origin="Derived", method="ECREFID"),
                 _v("ECTRT", "Name of Treatment", origin="Assigned"), _v("ECMOOD", "Mood", origin="Assigned"),
                 _v("ECPRESP", "Pre-Specified", origin="Assigned", codelist="NY"),
                 _v("ECOCCUR", "Occurrence", codelist="NY"), _v("ECREASOC", "Reason for Occur Value"),
                 _v("ECDOSE", "Dose", "float"), _v("ECDOSU", "Dose Units", origin="Assigned"),
                 _v("ECROUTE", "Route of Administration", origin="Assigned", codelist="ROUTE"),
                 _v("ECSTDTC", "Start Date/Time of Treatment"),
                 _v("ECENDTC", "End Date/Time of Treatment", origin="Derived", method="ECENDTC"),
                 _v("ECSTDY", "Study Day of Start of Treatment", "integer", origin="Derived", method="DY"),
                 _v("ECENDY", "Study Day of End of Treatment", "integer", origin="Derived", method="DY"))
    return _finish("EC", "Exposure as Collected", variables, rows, ("USUBJID", "ECTRT", "ECSTDTC", "ECREFID"),
                   structure="One record per administration", klass="INTERVENTIONS")


def build_ex(data: StudyData) -> Dataset:
    """Exposure (unblinded packages only): the product each given administration was, from the
    arm and the phenotype fixed at randomization (trial.md, the double-dummy table)."""
    if data.arms is None:
        raise ValueError("EX names the product given and exists only in unblinded packages.")
    p = data.protocol
    rows = []
    for a in data.administrations:
        if not a["given"]:
            continue
        s = data.subject(a["participant_id"])
        arm = data.arms[a["participant_id"]]
        active = arm == "active" and ((a["route"] == "iv") == (s["phenotype"] == "MALS"))
        if a["route"] == "iv":
            trt, dose, unit = ("ANAKINRA", 200.0, "mg") if active else ("PLACEBO", 0.0, "mg")
            form = "INJECTION"
        else:
            trt, dose, unit = ("INTERFERON GAMMA-1B", 100.0, "ug") if active else ("PLACEBO", 0.0, "ug")
            form = "INJECTION"
        rows.append({
            **_base(data, s, "EX"), "EXREFID": f"{a['route'].upper()}-{a['dose_number']:03d}",
            "EXTRT": trt, "EXDOSE": dose, "EXDOSU": unit, "EXDOSFRM": form, "EXROUTE": ct.ROUTE[a["route"]],
            "EXDOSFRQ": "Q8H" if a["route"] == "iv" else "Q48H",
            "EXSTDTC": dtc(a["started_at"], s["tz"]), "EXSTDY": study_dy(a["started_at"], s),
            "EXTPT": ascii_text(p.iv_active_dose if a["route"] == "iv" and active else
                                p.iv_placebo_dose if a["route"] == "iv" else
                                p.sc_active_dose if active else p.sc_placebo_dose),
        })
    variables = (*_ids("EX"), _v("EXREFID", "Reference ID", origin="Derived", method="ECREFID"),
                 _v("EXTRT", "Name of Treatment", origin="Derived", method="EXTRT"),
                 _v("EXDOSE", "Dose", "float", origin="Derived", method="EXTRT"), _v("EXDOSU", "Dose Units", origin="Assigned"),
                 _v("EXDOSFRM", "Dose Form", origin="Assigned"), _v("EXROUTE", "Route of Administration", origin="Assigned",
                                                                    codelist="ROUTE"),
                 _v("EXDOSFRQ", "Dosing Frequency per Interval", origin="Assigned"),
                 _v("EXSTDTC", "Start Date/Time of Treatment", origin="Predecessor"),
                 _v("EXSTDY", "Study Day of Start of Treatment", "integer", origin="Derived", method="DY"),
                 _v("EXTPT", "Prepared Dose", origin="Assigned"))
    return _finish("EX", "Exposure", variables, rows, ("USUBJID", "EXTRT", "EXSTDTC", "EXREFID"),
                   structure="One record per administration given", klass="INTERVENTIONS")


def build_cm(data: StudyData) -> Dataset:
    rows = []
    for m in data.medications:
        s = data.subject(m["participant_id"])
        cat = "CORTICOSTEROID" if m["is_corticosteroid"] else ("VASOPRESSOR" if m["is_vasopressor"] else
                                                               ("ANTIMICROBIAL" if m["is_antimicrobial"] else None))
        rows.append({
            **_base(data, s, "CM"), "CMTRT": ascii_text(m["drug"]), "CMCAT": cat, "CMINDC": ascii_text(m["indication"]),
            "CMDOSE": num(m["dose"]), "CMDOSU": ct.DOSE_UNIT.get(m["dose_unit"], m["dose_unit"]),
            "CMROUTE": ct.ROUTE[m["route"]], "CMSTDTC": dtc(m["started_on"], s["tz"]),
            "CMENDTC": dtc(m["stopped_on"], s["tz"]), "CMSTDY": study_dy(m["started_on"], s),
            "CMENDY": study_dy(m["stopped_on"], s), "CMENRF": "ONGOING" if m["stopped_on"] is None else None,
        })
    variables = (*_ids("CM"), _v("CMTRT", "Reported Name of Drug, Med, or Therapy"),
                 _v("CMCAT", "Category for Medication"), _v("CMINDC", "Indication"), _v("CMDOSE", "Dose per Administration", "float"),
                 _v("CMDOSU", "Dose Units"), _v("CMROUTE", "Route of Administration", codelist="ROUTE"),
                 _v("CMSTDTC", "Start Date/Time of Medication"), _v("CMENDTC", "End Date/Time of Medication"),
                 _v("CMSTDY", "Study Day of Start of Medication", "integer", origin="Derived", method="DY"),
                 _v("CMENDY", "Study Day of End of Medication", "integer", origin="Derived", method="DY"),
                 _v("CMENRF", "End Relative to Reference Period", origin="Derived"))
    return _finish("CM", "Concomitant Medications", variables, rows,
                   ("USUBJID", "CMTRT", "CMSTDTC"), structure="One record per medication", klass="INTERVENTIONS")


# --- events ---------------------------------------------------------------------------------


def _aerel(a: Row) -> str | None:
    categories = [c for c in (a["causality_iv"], a["causality_sc"]) if c]
    if not categories:
        return None
    return "RELATED" if any(c in ct.RELATED_CATEGORIES for c in categories) else "NOT RELATED"


def _aeacn(a: Row) -> str | None:
    actions = {ct.ACTION_TAKEN[x] for x in (a["action_iv"], a["action_sc"]) if x}
    if not actions:
        return None
    return actions.pop() if len(actions) == 1 else ct.ACTION_MULTIPLE


def build_ae(data: StudyData) -> Dataset:
    rows = []
    for a in data.adverse_events:
        s = data.subject(a["participant_id"])
        rows.append({
            **_base(data, s, "AE"), "AESPID": f"AE-{a['id']}", "AETERM": ascii_text(a["verbatim_term"]),
            "AELLTCD": num(a["llt_code"]), "AEDECOD": ascii_text(a["pt_name"] or None), "AEPTCD": num(a["pt_code"]),
            "AEBODSYS": ascii_text(a["soc_name"] or None), "AEBDSYCD": num(a["soc_code"]),
            "AETOXGR": str(a["grade"]), "AESER": yn(a["serious"]), "AESDTH": yn(a["serious_death"]),
            "AESLIFE": yn(a["serious_life_threatening"]), "AESHOSP": yn(a["serious_hospitalisation"]),
            "AESDISAB": yn(a["serious_disability"]), "AESCONG": yn(a["serious_congenital_anomaly"]),
            "AESMIE": yn(a["serious_important_medical_event"]), "AEREL": _aerel(a), "AEACN": _aeacn(a),
            "AEOUT": ct.AE_OUTCOME.get(a["outcome"]), "AESTDTC": dtc(a["onset_date"], s["tz"]),
            "AEENDTC": dtc(a["end_date"], s["tz"]), "AESTDY": study_dy(a["onset_date"], s),
            "AEENDY": study_dy(a["end_date"], s),
        })
    variables = (*_ids("AE"), _v("AESPID", "Sponsor-Defined Identifier", origin="Assigned"),
                 _v("AETERM", "Reported Term for the Adverse Event"), _v("AELLTCD", "Lowest Level Term Code", "integer"),
                 _v("AEDECOD", "Dictionary-Derived Term", origin="Derived", method="MEDDRA"),
                 _v("AEPTCD", "Preferred Term Code", "integer", origin="Derived", method="MEDDRA"),
                 _v("AEBODSYS", "Body System or Organ Class", origin="Derived", method="MEDDRA"),
                 _v("AEBDSYCD", "Body System or Organ Class Code", "integer", origin="Derived", method="MEDDRA"),
                 _v("AETOXGR", "Standard Toxicity Grade"), _v("AESER", "Serious Event", codelist="NY"),
                 _v("AESDTH", "Results in Death", codelist="NY"), _v("AESLIFE", "Is Life Threatening", codelist="NY"),
                 _v("AESHOSP", "Requires or Prolongs Hospitalization", codelist="NY"),
                 _v("AESDISAB", "Persist or Signif Disability/Incapacity", codelist="NY"),
                 _v("AESCONG", "Congenital Anomaly or Birth Defect", codelist="NY"),
                 _v("AESMIE", "Other Medically Important Serious Event", codelist="NY"),
                 _v("AEREL", "Causality", origin="Derived", method="AEREL", codelist="AEREL"),
                 _v("AEACN", "Action Taken with Study Treatment", origin="Derived", method="AEACN", codelist="ACN"),
                 _v("AEOUT", "Outcome of Adverse Event", codelist="OUT"), _v("AESTDTC", "Start Date/Time of Adverse Event"),
                 _v("AEENDTC", "End Date/Time of Adverse Event"),
                 _v("AESTDY", "Study Day of Start of Adverse Event", "integer", origin="Derived", method="DY"),
                 _v("AEENDY", "Study Day of End of Adverse Event", "integer", origin="Derived", method="DY"))
    return _finish("AE", "Adverse Events", variables, rows, ("USUBJID", "AESTDTC", "AETERM", "AESPID"),
                   structure="One record per adverse event", klass="EVENTS")


_SUPP_VARIABLES = (
    _v("STUDYID", "Study Identifier", origin="Assigned"), _v("RDOMAIN", "Related Domain Abbreviation", origin="Assigned"),
    _v("USUBJID", "Unique Subject Identifier", origin="Derived", method="USUBJID"),
    _v("IDVAR", "Identifying Variable", origin="Assigned"), _v("IDVARVAL", "Identifying Variable Value", origin="Derived"),
    _v("QNAM", "Qualifier Variable Name", origin="Assigned"), _v("QLABEL", "Qualifier Variable Label", origin="Assigned"),
    _v("QVAL", "Data Value"), _v("QORIG", "Origin", origin="Assigned"), _v("QEVAL", "Evaluator"))

# SUPPAE qualifiers: QNAM -> (QLABEL, source key, how to render).
_SUPPAE = (
    ("AERELIV", "Causality to IV Study Drug (WHO-UMC)", "causality_iv"),
    ("AERELSC", "Causality to SC Study Drug (WHO-UMC)", "causality_sc"),
    ("AEACNIV", "Action Taken with IV Study Drug", "action_iv"),
    ("AEACNSC", "Action Taken with SC Study Drug", "action_sc"),
    ("AETRTEM", "Treatment Emergent Flag", "treatment_emergent"),
    ("AESIANEM", "Anemia (Adverse Event of Special Interest)", "anemia"),
    ("AEHBNAD", "Hemoglobin Nadir (g/dL)", "hb_nadir_g_dl"),
    ("AETRANSU", "Red-Cell Units Transfused", "transfusion_units"),
    ("AESIBLD", "Bleeding (Adverse Event of Special Int)", "bleeding"),
    ("AEBLDSIT", "Bleeding Site", "bleeding_site"),
    ("AEBLDSEV", "Bleeding Severity", "bleeding_severity"),
    ("AEBLDINT", "Bleeding Intervention", "bleeding_intervention"),
)


def _supp_value(key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Y" if value else ("N" if key == "treatment_emergent" else None)
    if key.startswith("causality"):
        return str(value).upper()
    if key.startswith("action"):
        return ct.ACTION_TAKEN.get(value, value)
    if isinstance(value, Decimal | int | float):
        return text(value)
    return ascii_text(str(value).upper() if key == "bleeding_severity" else str(value))


def build_suppae(data: StudyData, ae: Dataset) -> Dataset:
    """Non-standard AE qualifiers, one record per qualifier present, tied to AESEQ."""
    by_spid = {r["AESPID"]: r for r in ae.rows}
    rows = []
    for a in data.adverse_events:
        parent = by_spid[f"AE-{a['id']}"]
        for qnam, qlabel, key in _SUPPAE:
            value = _supp_value(key, a.get(key))
            if value is None:
                continue
            rows.append({"STUDYID": data.study_code, "RDOMAIN": "AE", "USUBJID": parent["USUBJID"], "IDVAR": "AESEQ",
                         "IDVARVAL": str(parent["AESEQ"]), "QNAM": qnam, "QLABEL": qlabel, "QVAL": value,
                         "QORIG": "Derived" if key == "treatment_emergent" else "Collected", "QEVAL": None})
    rows = sort_rows(rows, ("USUBJID", "IDVARVAL", "QNAM"))
    rows.sort(key=lambda r: (r["USUBJID"], int(str(r["IDVARVAL"])), r["QNAM"]))
    return Dataset(name="SUPPAE", label="Supplemental Qualifiers for AE", variables=_SUPP_VARIABLES, rows=rows,
                   keys=("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
                   structure="One record per IDVAR, IDVARVAL, and QNAM value per subject", klass="RELATIONSHIP")


def split_text(value: str, size: int = 200) -> list[str]:
    """SDTMIG 3.4 4.5.3.2: text over 200 characters goes in pieces of at most 200, the first in
    the parent variable, the others in SUPP-- (QNAM --TERM1, --TERM2, ...); pieces break after a
    space where there is one, so that joined they give the text back exactly."""
    pieces = []
    while len(value) > size:
        cut = value.rfind(" ", 0, size) + 1 or size
        pieces.append(value[:cut])
        value = value[cut:]
    return [*pieces, value]


def build_supp_text(data: StudyData, parent: Dataset, variable: str, label: str) -> Dataset:
    """Move the part of ``variable`` beyond 200 characters into SUPP-- records (tied by --SEQ)."""
    domain = parent.name
    rows = []
    for row in parent.rows:
        value = row.get(variable)
        if not isinstance(value, str) or len(value) <= 200:
            continue
        first, *rest = split_text(value)
        row[variable] = first
        for i, piece in enumerate(rest, start=1):
            rows.append({"STUDYID": data.study_code, "RDOMAIN": domain, "USUBJID": row["USUBJID"], "IDVAR": f"{domain}SEQ",
                         "IDVARVAL": str(row[f"{domain}SEQ"]), "QNAM": f"{variable}{i}"[:8],
                         "QLABEL": f"{label} {i}"[:40], "QVAL": piece, "QORIG": "Collected", "QEVAL": None})
    rows.sort(key=lambda r: (r["USUBJID"], int(str(r["IDVARVAL"])), r["QNAM"]))
    return Dataset(name=f"SUPP{domain}", label=f"Supplemental Qualifiers for {domain}", variables=_SUPP_VARIABLES,
                   rows=rows, keys=("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
                   structure="One record per IDVAR, IDVARVAL, and QNAM value per subject", klass="RELATIONSHIP")


def build_ds(data: StudyData) -> Dataset:
    ends = {e["participant_id"]: e for e in data.end_of_study}
    deaths = {d["participant_id"]: d for d in data.deaths}
    rows = []

    def add(s: Row, cat_decod: tuple[str, str], term: str, when: datetime | date | None) -> None:
        rows.append({**_base(data, s, "DS"), "DSTERM": ascii_text(term) if term else None, "DSDECOD": cat_decod[1],
                     "DSCAT": cat_decod[0], "DSSTDTC": dtc(when, s["tz"]), "DSSTDY": study_dy(when, s)})

    for s in data.subjects:
        if s["consented_at"] is not None:
            add(s, ct.DS_CONSENT, "INFORMED CONSENT OBTAINED", s["consented_at"])
        if s["randomized_at"] is not None:
            add(s, ct.DS_RANDOMIZED, "RANDOMIZED", s["randomized_at"])
        elif s["eligibility"] == "not_eligible":
            reasons = "; ".join(reason_label(r) for r in s["ineligibility_reasons"]) or "Not eligible"
            add(s, ct.DS_SCREEN_FAILURE, reasons, s["sepsis3_at"])
        end = ends.get(s["id"])
        if end is not None:
            add(s, ("DISPOSITION EVENT", ct.DS_DISPOSITION[end["disposition"]]), end["disposition"].replace("_", " ").upper(),
                end["disposition_date"])
        elif s["id"] in deaths:
            death = deaths[s["id"]]
            add(s, ("DISPOSITION EVENT", ct.DS_DEATH), death["cause"] or "DEATH", death["died_at"])
    variables = (*_ids("DS"), _v("DSTERM", "Reported Term for the Disposition Event"),
                 _v("DSDECOD", "Standardized Disposition Term", origin="Assigned", codelist="DSDECOD"),
                 _v("DSCAT", "Category for Disposition Event", origin="Assigned"),
                 _v("DSSTDTC", "Start Date/Time of Disposition Event"),
                 _v("DSSTDY", "Study Day of Start of Disposition Event", "integer", origin="Derived", method="DY"))
    return _finish("DS", "Disposition", variables, rows, ("USUBJID", "DSSTDTC", "DSCAT", "DSDECOD"),
                   structure="One record per disposition status or protocol milestone per subject", klass="EVENTS")


def build_mh(data: StudyData) -> Dataset:
    """The infection focus of the sepsis episode (and COVID-19), as medical history at screening."""
    rows = []
    for s in data.subjects:
        if s["infection_source"]:
            rows.append({**_base(data, s, "MH"), "MHTERM": ct.INFECTION_FOCUS.get(s["infection_source"], s["infection_source"]),
                         "MHCAT": "INFECTION FOCUS", "MHPRESP": "Y", "MHOCCUR": "Y",
                         "MHSTDTC": dtc(s["sepsis3_at"], s["tz"]), "MHSTDY": study_dy(s["sepsis3_at"], s)})
        if s["covid19"] is not None:
            rows.append({**_base(data, s, "MH"), "MHTERM": "COVID-19", "MHCAT": "INFECTION FOCUS", "MHPRESP": "Y",
                         "MHOCCUR": yn(s["covid19"]), "MHSTDTC": None, "MHSTDY": None})
    variables = (*_ids("MH"), _v("MHTERM", "Reported Term for the Medical History"),
                 _v("MHCAT", "Category for Medical History", origin="Assigned"),
                 _v("MHPRESP", "Medical History Event Pre-Specified", origin="Assigned", codelist="NY"),
                 _v("MHOCCUR", "Medical History Occurrence", codelist="NY"),
                 _v("MHSTDTC", "Start Date/Time of Medical History Event"),
                 _v("MHSTDY", "Study Day of Start of Observation", "integer", origin="Derived", method="DY"))
    return _finish("MH", "Medical History", variables, rows, ("USUBJID", "MHCAT", "MHTERM"),
                   structure="One record per medical history event per subject", klass="EVENTS")


def build_ce(data: StudyData) -> Dataset:
    """New infections after randomization, as clinical events (organism in CESPID-linked text)."""
    rows = []
    for i in data.infections:
        s = data.subject(i["participant_id"])
        rows.append({**_base(data, s, "CE"), "CESPID": f"INF-{i['id']}", "CETERM": f"New infection: {i['infection_site']}",
                     "CEDECOD": "INFECTION", "CECAT": "NEW INFECTION", "CELOC": i["infection_site"].upper(),
                     "CEORGNSM": ascii_text(i["organism"] or None), "CEMETHOD": i["diagnosed_by"].upper(),
                     "CESTDTC": dtc(i["onset_date"], s["tz"]), "CESTDY": study_dy(i["onset_date"], s)})
    variables = (*_ids("CE"), _v("CESPID", "Sponsor-Defined Identifier", origin="Assigned"),
                 _v("CETERM", "Reported Term for the Clinical Event"), _v("CEDECOD", "Dictionary-Derived Term", origin="Assigned"),
                 _v("CECAT", "Category for Clinical Event", origin="Assigned"), _v("CELOC", "Location of Event"),
                 _v("CEORGNSM", "Organism"), _v("CEMETHOD", "Method of Diagnosis"),
                 _v("CESTDTC", "Start Date/Time of Clinical Event"),
                 _v("CESTDY", "Study Day of Start of Event", "integer", origin="Derived", method="DY"))
    return _finish("CE", "Clinical Events", variables, rows, ("USUBJID", "CESTDTC", "CESPID"),
                   structure="One record per event per subject", klass="EVENTS")


def build_dv(data: StudyData) -> Dataset:
    rows = []
    for d in data.deviations:
        s = data.subject(d["participant_id"])
        rows.append({**_base(data, s, "DV"), "DVSPID": f"DV-{d['id']}", "DVTERM": ascii_text(d["description"]),
                     "DVDECOD": d["category"].upper(), "DVCAT": d["impact"].upper(),
                     "DVSCAT": d["found_by"].upper(), "DVSTDTC": dtc(d["occurred_on"], s["tz"]),
                     "DVSTDY": study_dy(d["occurred_on"], s)})
    variables = (*_ids("DV"), _v("DVSPID", "Sponsor-Defined Identifier", origin="Assigned"),
                 _v("DVTERM", "Protocol Deviation Term"), _v("DVDECOD", "Protocol Deviation Coded Term"),
                 _v("DVCAT", "Category for Protocol Deviation"), _v("DVSCAT", "Subcategory for Protocol Deviation"),
                 _v("DVSTDTC", "Start Date/Time of Deviation"),
                 _v("DVSTDY", "Study Day of Start of Deviation", "integer", origin="Derived", method="DY"))
    return _finish("DV", "Protocol Deviations", variables, rows, ("USUBJID", "DVSTDTC", "DVSPID"),
                   structure="One record per protocol deviation", klass="EVENTS")


# --- findings -------------------------------------------------------------------------------


def _ie_testcd(code: str) -> tuple[str, str]:
    """(IETESTCD, IECAT) of an ineligibility reason code."""
    inclusion = {"age_under_18": "INCL01", "sepsis3_not_met": "INCL02", "infection_source_not_eligible": "INCL03",
                 "phenotype_neither": "INCL04", "no_consent": "INCL05", "covid19_not_mals": "INCL06"}
    if code in inclusion:
        return inclusion[code], "INCLUSION"
    bare = {"corticosteroids_above_threshold": "corticosteroids"}.get(code, code.removeprefix("excl_"))
    if bare in EXCLUSION_CODES:
        return f"EXCL{EXCLUSION_CODES.index(bare) + 1:02d}", "EXCLUSION"
    return ("EXCL" + "".join(ch for ch in bare.upper() if ch.isalnum()))[:8], "EXCLUSION"


def build_ie(data: StudyData) -> Dataset:
    """Criteria not met (SDTMIG: IE holds only the exceptions), from the screening outcome."""
    rows = []
    for s in data.subjects:
        for code in s["ineligibility_reasons"] or ():
            testcd, cat = _ie_testcd(code)
            met = "N" if cat == "INCLUSION" else "Y"
            rows.append({**_base(data, s, "IE"), "IETESTCD": testcd, "IETEST": ascii_text(reason_label(code)),
                         "IECAT": cat, "IEORRES": met, "IESTRESC": met, "IEDTC": dtc(s["sepsis3_at"], s["tz"]),
                         "IEDY": study_dy(s["sepsis3_at"], s)})
    variables = (*_ids("IE"), _v("IETESTCD", "Inclusion/Exclusion Criterion Short Name", origin="Assigned"),
                 _v("IETEST", "Inclusion/Exclusion Criterion", origin="Assigned"),
                 _v("IECAT", "Inclusion/Exclusion Category", origin="Assigned"),
                 _v("IEORRES", "I/E Criterion Original Result", origin="Derived", method="IE", codelist="NY"),
                 _v("IESTRESC", "I/E Criterion Result in Std Format", origin="Derived", method="IE", codelist="NY"),
                 _v("IEDTC", "Date/Time of Collection"), _v("IEDY", "Study Day of Collection", "integer", origin="Derived",
                                                              method="DY"))
    return _finish("IE", "Inclusion/Exclusion Criteria Not Met", variables, rows, ("USUBJID", "IETESTCD"),
                   structure="One record per inclusion/exclusion criterion not met per subject", klass="FINDINGS")


def _lab_row(data: StudyData, s: Row, analyte: str, value: Any, unit: str, low: Any, high: Any, when: datetime,
             visit_day: int) -> dict[str, Value]:
    testcd, test, cat, spec = ct.LAB_TESTS[analyte]
    std_value, std_unit = value, unit
    if analyte in UNITS and unit in UNITS[analyte][1]:
        std_unit, factors = UNITS[analyte]
        factor = factors[unit]
        std_value = None if value is None else (Decimal(value) * factor)
    nrind = None
    if value is not None and low is not None and Decimal(value) < Decimal(low):
        nrind = "LOW"
    elif value is not None and high is not None and Decimal(value) > Decimal(high):
        nrind = "HIGH"
    elif value is not None and (low is not None or high is not None):
        nrind = "NORMAL"
    std = None if std_value is None else round(float(std_value), 6)
    return {**_base(data, s, "LB"), "LBTESTCD": testcd, "LBTEST": test, "LBCAT": cat, "LBORRES": text(value),
            "LBORRESU": unit or None, "LBORNRLO": text(low), "LBORNRHI": text(high),
            "LBSTRESC": None if std is None else _csv_num(std), "LBSTRESN": std, "LBSTRESU": std_unit or None,
            "LBNRIND": nrind, "LBSPEC": spec, "VISITNUM": float(visit_day), "VISIT": f"DAY {visit_day}",
            "LBDTC": dtc(when, s["tz"]), "LBDY": study_dy(when, s)}


def _csv_num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def build_lb(data: StudyData) -> Dataset:
    rows: list[dict[str, Value]] = []
    for s in data.subjects:  # the screening sample of the central lab (the phenotype's inputs)
        if s["ferritin"] is not None:
            rows.append(_lab_row(data, s, "ferritin", s["ferritin"], "ng/mL", None, None, s["ferritin_sampled_at"], 0))
        if s["hla_dr"] is not None:
            rows.append(_lab_row(data, s, "hla_dr", s["hla_dr"], ct.HLA_DR_UNIT, None, None, s["hla_dr_sampled_at"], 0))
    for c in data.central_labs:
        s = data.subject(c["participant_id"])
        if c["ferritin"] is not None:
            rows.append(_lab_row(data, s, "ferritin", c["ferritin"], c["ferritin_unit"] or "ng/mL", None, None,
                                 c["sample_time"], c["day"]))
        if c["hla_dr"] is not None:
            rows.append(_lab_row(data, s, "hla_dr", c["hla_dr"], ct.HLA_DR_UNIT, None, None, c["sample_time"], c["day"]))
    for p in data.lab_panels:
        s = data.subject(p["participant_id"])
        for analyte in ("hemoglobin", "white_cells", "neutrophils", "platelets", "bilirubin", "creatinine"):
            if p[analyte] is None:
                continue
            rows.append(_lab_row(data, s, analyte, p[analyte], p[f"{analyte}_unit"], p[f"{analyte}_low"],
                                 p[f"{analyte}_high"], p["sample_time"], p["day"]))
    variables = (*_ids("LB"), _v("LBTESTCD", "Lab Test or Examination Short Name", origin="Assigned", codelist="LBTESTCD"),
                 _v("LBTEST", "Lab Test or Examination Name", origin="Assigned"), _v("LBCAT", "Category for Lab Test",
                                                                                    origin="Assigned"),
                 _v("LBORRES", "Result or Finding in Original Units"), _v("LBORRESU", "Original Units"),
                 _v("LBORNRLO", "Reference Range Lower Limit in Orig Unit"),
                 _v("LBORNRHI", "Reference Range Upper Limit in Orig Unit"),
                 _v("LBSTRESC", "Character Result/Finding in Std Format", origin="Derived", method="LBSTRES"),
                 _v("LBSTRESN", "Numeric Result/Finding in Standard Units", "float", origin="Derived", method="LBSTRES"),
                 _v("LBSTRESU", "Standard Units", origin="Derived", method="LBSTRES"),
                 _v("LBNRIND", "Reference Range Indicator", origin="Derived", method="LBNRIND", codelist="NRIND"),
                 _v("LBSPEC", "Specimen Type", origin="Assigned"), _v("VISITNUM", "Visit Number", "integer", origin="Assigned"),
                 _v("VISIT", "Visit Name", origin="Assigned"), _v("LBDTC", "Date/Time of Specimen Collection"),
                 _v("LBDY", "Study Day of Specimen Collection", "integer", origin="Derived", method="DY"))
    return _finish("LB", "Laboratory Test Results", variables, rows, ("USUBJID", "LBTESTCD", "VISITNUM", "LBDTC"),
                   structure="One record per lab test per time point per visit per subject", klass="FINDINGS")


def build_rs(data: StudyData) -> Dataset:
    """SOFA in RS (clinical classifications, SDTMIG 3.4): the six organ subscores and the total
    of each submitted day, as the server scored them. RS rather than QS because SOFA is a
    clinician's rating of observed physiology, not a questionnaire answered by anyone (SDTMIG
    3.3 moved clinical classifications to RS). Day 1 is dated the randomization date (its
    values are the worst of the 24 h before it); day n >= 2 is that calendar day."""
    rows = []
    for d in data.sofa_days:
        s = data.subject(d["participant_id"])
        first = day_one(s)
        when = None if first is None else first + timedelta(days=d["day"] - 1)
        for key, testcd, test in ct.SOFA_TESTS:
            value = d[key]
            rows.append({**_base(data, s, "RS"), "RSTESTCD": testcd, "RSTEST": test, "RSCAT": ct.SOFA_CATEGORY,
                         "RSORRES": None if value is None else str(value),
                         "RSSTRESC": None if value is None else str(value),
                         "RSSTRESN": num(value), "RSSTAT": "NOT DONE" if value is None else None,
                         "RSREASND": "COMPONENT MISSING" if value is None else None,
                         "VISITNUM": float(d["day"]), "VISIT": f"DAY {d['day']}",
                         "RSDTC": dtc(when, s["tz"]), "RSDY": study_dy(when, s),
                         "RSEVAL": "INVESTIGATOR", "RSSPID": f"SOFA-{d['id']}"})
    variables = (*_ids("RS"), _v("RSSPID", "Sponsor-Defined Identifier", origin="Assigned"),
                 _v("RSTESTCD", "Assessment Short Name", origin="Assigned", codelist="RSTESTCD"),
                 _v("RSTEST", "Assessment Name", origin="Assigned"), _v("RSCAT", "Category for Assessment", origin="Assigned"),
                 _v("RSORRES", "Result or Finding in Original Units", origin="Derived", method="SOFA"),
                 _v("RSSTRESC", "Character Result/Finding in Std Format", origin="Derived", method="SOFA"),
                 _v("RSSTRESN", "Numeric Result/Finding in Standard Units", "integer", origin="Derived", method="SOFA"),
                 _v("RSSTAT", "Completion Status"), _v("RSREASND", "Reason Not Done"),
                 _v("VISITNUM", "Visit Number", "integer", origin="Assigned"), _v("VISIT", "Visit Name", origin="Assigned"),
                 _v("RSDTC", "Date/Time of Assessment", origin="Derived", method="RSDTC"),
                 _v("RSDY", "Study Day of Assessment", "integer", origin="Derived", method="DY"),
                 _v("RSEVAL", "Evaluator", origin="Assigned"))
    return _finish("RS", "Disease Response and Clin Classification", variables, rows, ("USUBJID", "RSTESTCD", "VISITNUM"),
                   structure="One record per assessment per visit per subject", klass="FINDINGS")


def build_sdtm(data: StudyData) -> list[Dataset]:
    """Every SDTM dataset of the package, in name order (EX only when unblinded)."""
    ae = build_ae(data)
    ds, dv = build_ds(data), build_dv(data)
    datasets = [build_ts(data), build_dm(data), build_ie(data), ds, ae, build_suppae(data, ae), build_cm(data),
                build_lb(data), build_rs(data), build_mh(data), build_ec(data), dv, build_ce(data)]
    # Free text over 200 characters (a deviation's description, a death's cause) continues in SUPP--.
    for parent, variable, label in ((ds, "DSTERM", "Reported Term for Disposition Event"),
                                    (dv, "DVTERM", "Protocol Deviation Term")):
        supp = build_supp_text(data, parent, variable, label)
        if supp.rows:
            datasets.append(supp)
    if not data.blinded:
        datasets.append(build_ex(data))
    return sorted(datasets, key=lambda d: d.name)
