"""Rules for the schedule, dosing, labs, medications, outcomes and deviations URLs (issue 5)."""

from __future__ import annotations

import datetime as dt

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.crf.models import Participant
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create, participant_mark_randomized
from tests.permissions.matrix import Fixtures, Rule

RANDOMIZED_AT = dt.datetime(2025, 3, 10, 8, 0, tzinfo=dt.UTC)
API = {"anonymous": 401, "api": True}


def _randomized(site, author, n: int) -> Participant:  # noqa: ANN001
    p = Participant(site=site, screening_number=f"{site.code}-R{n}")
    p._change_reason = "Created for the matrix"
    p.save()
    return participant_mark_randomized(participant=p, subject_id=f"{site.code}-SUBJ{n}", randomized_at=RANDOMIZED_AT, actor=author)


# (object name, form key, data, creator role ("author" = site coordinator, or a user role))
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
]
EXTRA_FORMS: list[tuple[str, str, dict, str]] = [
    ("labpanel", "labs.lab_panel", {"day": 2, "sample_time": RANDOMIZED_AT + dt.timedelta(days=1), "hemoglobin": "11",
                                    "hemoglobin_unit": "g/dL"}, "author"),
    ("centrallab", "labs.central_lab", {"day": 2, "sample_time": RANDOMIZED_AT + dt.timedelta(days=1), "ferritin": "900",
                                        "ferritin_unit": "ng/mL", "hla_dr": 4000}, "lab"),
    ("medication", "medications.concomitant", {"drug": "Meropenem", "indication": "Pneumonia", "dose": "1", "dose_unit": "g",
                                               "route": "iv", "started_on": dt.date(2025, 3, 9), "is_antimicrobial": True}, "author"),
]


def build(fx: Fixtures) -> None:
    from ecrf.accounts.services import user_create

    lab_user, _ = user_create(actor=None, username="matrix-lab-schedule", roles=[Role.LAB], site_codes=[], password="Correct-Horse-Battery-9")
    fx.add("lab", lab_user, lab_user)
    own = _randomized(fx.sites["own"], fx.get("author", "own"), 1)
    other = _randomized(fx.sites["other"], fx.get("author", "other"), 1)
    fx.add("scheduled", own, other)  # not "randomized": entries_randomization owns that name
    for name, key, data, creator in FORMS + EXTRA_FORMS:
        spec = get_spec(key)
        made = {}
        for where, p in (("own", own), ("other", other)):
            actor = fx.get("author", where) if creator == "author" else fx.get(creator, where)
            made[where] = form_create(actor=actor, spec=spec, participant=p, data=dict(data))
        fx.add(name, made["own"], made["other"])


def _obj(name: str):  # noqa: ANN202
    return lambda fx, where, user: {"pk": fx.get(name, where).pk}


def form_rules(name: str, key: str) -> dict[str, Rule]:
    spec = get_spec(key)
    read = frozenset(spec.read_roles | spec.correction_roles)
    write = frozenset(spec.write_roles)
    readers_403 = {r: 403 for r in read - write}
    slug = spec.slug
    return {
        f"{slug}-list": Rule(read, **API),
        f"{slug}-list#post": Rule(write, method="post", ok=400, **API),
        f"{slug}-detail": Rule(read, kwargs=_obj(name), **API),
        f"{slug}-detail#patch": Rule(write, method="patch", ok=400, kwargs=_obj(name), statuses=readers_403, **API),
        f"{slug}-history": Rule(read, kwargs=_obj(name), **API),
        f"{slug}-submit": Rule(write, method="post", ok=400, kwargs=_obj(name), statuses=readers_403, **API),
        f"{slug}-retract": Rule(write, method="post", ok=400, kwargs=_obj(name), statuses=readers_403, **API),
        f"{slug}-not-done": Rule(write, method="post", ok=400, kwargs=_obj(name), statuses=readers_403, **API),
    }


def _participant(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.get("scheduled", where).pk}


RULES: dict[str, Rule] = {
    "participant-schedule-list": Rule(CASEBOOK_READ_ROLES, kwargs=lambda fx, w, u: {"participant_pk": fx.get("scheduled", w).pk}, **API),
    "schedule:casebook": Rule(CASEBOOK_READ_ROLES, kwargs=_participant),
    "dosing:day": Rule(CASEBOOK_READ_ROLES, kwargs=lambda fx, w, u: {"pk": fx.get("scheduled", w).pk, "day": 1}),
    # POST without a slot records nothing and shows the page again; readers may not post.
    "dosing:day#post": Rule(SITE_ENTRY_ROLES, method="post", kwargs=lambda fx, w, u: {"pk": fx.get("scheduled", w).pk, "day": 1},
                            statuses={Role.MONITOR: 403, Role.DATA_MANAGER: 403, Role.SAFETY_OFFICER: 403}),
}
for _name, _key, _data, _creator in FORMS + EXTRA_FORMS:
    RULES.update(form_rules(_name, _key))
