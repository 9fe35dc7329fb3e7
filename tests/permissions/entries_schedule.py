"""The schedule, dosing, labs, medications, outcomes and deviations URLs."""

from __future__ import annotations

import datetime as dt

from ecrf.crf.models import Participant
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create, participant_mark_randomized
from tests.permissions.design import CASEBOOK, CENTRAL_LAB, SITE_ENTRY
from tests.permissions.matrix import Check, Fixtures, Own, api, check, form_api, pk_of

RANDOMIZED_AT = dt.datetime(2025, 3, 10, 8, 0, tzinfo=dt.UTC)


def _randomized(site, author, n: int) -> Participant:  # noqa: ANN001
    p = Participant(site=site, screening_number=f"{site.code}-R{n}")
    p._change_reason = "Created for the matrix"
    p.save()
    return participant_mark_randomized(participant=p, subject_id=f"{site.code}-SUBJ{n}", randomized_at=RANDOMIZED_AT, actor=author)


# (object name, form key, data, creator ("author" = the site's coordinator, or "lab"))
FORMS: list[tuple[str, str, dict, str]] = [
    ("administration", "dosing.administration",
     {"route": "iv", "dose_number": 1, "given": True, "started_at": RANDOMIZED_AT + dt.timedelta(minutes=30),
      "duration_minutes": 30, "volume_ml": "20"}, "author"),
    ("discontinuation", "dosing.discontinuation",
     {"route": "sc", "discontinued_on": dt.date(2025, 3, 12), "discontinuation_reason": "adverse_event"}, "author"),
    ("death", "outcomes.death", {"died_at": RANDOMIZED_AT + dt.timedelta(days=20), "cause": "Septic shock"}, "author"),
    ("vital", "outcomes.vital_status", {"day": 28, "vital_status": "alive", "assessed_on": dt.date(2025, 4, 6)}, "author"),
    ("infection", "outcomes.new_infection",
     {"onset_date": dt.date(2025, 3, 15), "infection_site": "lung", "organism": "Klebsiella", "diagnosed_by": "culture"}, "author"),
    ("eos", "outcomes.end_of_study", {"disposition": "lost_to_follow_up", "disposition_date": dt.date(2025, 5, 1)}, "author"),
    ("deviation", "deviations.deviation",
     {"category": "other", "description": "x", "occurred_on": dt.date(2025, 3, 12), "found_by": "site", "impact": "minor"}, "author"),
    ("labpanel", "labs.lab_panel", {"day": 2, "sample_time": RANDOMIZED_AT + dt.timedelta(days=1), "hemoglobin": "11",
                                    "hemoglobin_unit": "g/dL"}, "author"),
    ("centrallab", "labs.central_lab", {"day": 2, "sample_time": RANDOMIZED_AT + dt.timedelta(days=1), "ferritin": "900",
                                        "ferritin_unit": "ng/mL", "hla_dr": 4000}, "lab"),
    ("medication", "medications.concomitant", {"drug": "Meropenem", "indication": "Pneumonia", "dose": "1", "dose_unit": "g",
                                               "route": "iv", "started_on": dt.date(2025, 3, 9), "is_antimicrobial": True}, "author"),
]
DATA = {name: data for name, _key, data, _creator in FORMS}


def build(fx: Fixtures) -> None:
    from ecrf.accounts.services import user_create

    lab_user, _ = user_create(actor=None, username="matrix-lab-schedule", roles=["lab"], site_codes=[], password="Correct-Horse-Battery-9")
    fx.add("lab", lab_user, lab_user)
    own = _randomized(fx.sites["own"], fx.get("author", "own"), 1)
    other = _randomized(fx.sites["other"], fx.get("author", "other"), 1)
    fx.add("scheduled", own, other)
    # Randomized participants with no forms yet: the targets of valid creates.
    fx.add("blank", _randomized(fx.sites["own"], fx.get("author", "own"), 2),
           _randomized(fx.sites["other"], fx.get("author", "other"), 2))
    for name, key, data, creator in FORMS:
        spec = get_spec(key)
        made = {}
        for where, p in (("own", own), ("other", other)):
            actor = fx.get("author", where) if creator == "author" else fx.get(creator, where)
            made[where] = form_create(actor=actor, spec=spec, participant=p, data=dict(data))
        fx.add(name, made["own"], made["other"])


def create(name: str):  # noqa: ANN201
    return lambda fx, where, user: {"participant": fx.get("blank", where).pk, **DATA[name]}


# Deviations are raised by site staff, by monitors (found at a visit) and by data managers (in review).
DEVIATION_WRITERS = {"investigator", "coordinator", "monitor", "data_manager"}
RULES: dict[str, dict[str, Check]] = {
    **form_api("administrations", "administration", read=CASEBOOK, write=SITE_ENTRY, create=create("administration"),
               change={"duration_minutes": 35}),
    **form_api("discontinuations", "discontinuation", read=CASEBOOK, write=SITE_ENTRY, create=create("discontinuation"),
               change={"discontinued_on": dt.date(2025, 3, 13)}),
    **form_api("deaths", "death", read=CASEBOOK, write=SITE_ENTRY, create=create("death"), change={"cause": "Pneumonia"}),
    **form_api("vital-status", "vital", read=CASEBOOK, write=SITE_ENTRY, create=create("vital"),
               change={"assessed_on": dt.date(2025, 4, 7)}),
    **form_api("infections", "infection", read=CASEBOOK, write=SITE_ENTRY, create=create("infection"),
               change={"organism": "E. coli"}),
    **form_api("end-of-study", "eos", read=CASEBOOK, write=SITE_ENTRY, create=create("eos"),
               change={"disposition_date": dt.date(2025, 5, 2)}),
    **form_api("deviations", "deviation", read=CASEBOOK, write=DEVIATION_WRITERS, create=create("deviation"),
               change={"description": "Changed"}),
    **form_api("labs", "labpanel", read=CASEBOOK, write=SITE_ENTRY, create=create("labpanel"), change={"hemoglobin": "10"}),
    # Follow-up central-lab values: entered by the lab for every site.
    **form_api("central-labs", "centrallab", read=CENTRAL_LAB, write={"lab"}, create=create("centrallab"), change={"hla_dr": 5000}),
    **form_api("medications", "medication", read=CASEBOOK, write=SITE_ENTRY, create=create("medication"), change={"dose": "2"}),
    "participant-schedule-list": {"get": api(CASEBOOK, kwargs=lambda fx, w, u: {"participant_pk": fx.get("scheduled", w).pk})},
    "schedule:casebook": {"get": check(CASEBOOK, kwargs=pk_of("scheduled"))},
    "dosing:day": {
        "get": check(CASEBOOK, kwargs=lambda fx, w, u: {"pk": fx.get("scheduled", w).pk, "day": 1}),
        # Recording dose 2 of day 1: site staff; the casebook's other readers are refused.
        "post": check({"monitor": Own(403), "data_manager": 403, "safety_officer": 403, "investigator": Own(302),
                       "coordinator": Own(302)},
                      kwargs=lambda fx, w, u: {"pk": fx.get("scheduled", w).pk, "day": 1},
                      body=lambda fx, w, u: {"slot": "iv-2", "iv-2-given": "yes", "iv-2-duration_minutes": 30, "iv-2-volume_ml": "20",
                                             # dose 2 is due 8 h after the first (08:30 UTC), in the site's zone
                                             "iv-2-started_at": {"own": "2025-03-10T18:30", "other": "2025-03-10T17:30"}[w]}),
    },
}
