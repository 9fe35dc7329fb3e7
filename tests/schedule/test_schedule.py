"""Schedule cases: a 23:00 randomization, death on day 5, withdrawal from
treatment only versus from everything, and discontinuation."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.outcomes.specs import DEATH
from ecrf.schedule import adapters
from ecrf.schedule.engine import State
from ecrf.schedule.selectors import build_schedule
from tests.support.screening import withdraw
from tests.support.times import athens

pytestmark = pytest.mark.django_db
LATER = athens(2025, 8, 1, 12, 0)  # long after every window


def doses_by_day(schedule, route):
    return Counter(f.slot.day for f in schedule.forms if f.slot.treatment_route == route and f.expected)


def give(actor, participant, route, n, at):
    return form_create(actor=actor, spec=ADMINISTRATION, participant=participant, submit=True,
                       data={"route": route, "dose_number": n, "given": True, "started_at": at,
                             "duration_minutes": 30, "volume_ml": "20" if route == "iv" else "0.5"})


def test_2300_randomization_doses_cross_midnight(coordinator, make_randomized, site_a):
    p = make_randomized(athens(2025, 3, 10, 23, 0))
    give(coordinator, p, "iv", 1, athens(2025, 3, 10, 23, 10))
    schedule = build_schedule(p, now=LATER)
    iv = doses_by_day(schedule, "iv")
    # Dose 1 at 23:10 on day 1; doses 2-4 at 07:10, 15:10, 23:10 on day 2; ...; dose 45 at
    # first + 352 h = 25 March 15:10, day 16.
    assert iv[1] == 1 and iv[2] == 3 and iv[15] == 3 and iv[16] == 2 and sum(iv.values()) == 45
    sc = doses_by_day(schedule, "sc")
    assert sorted(sc) == [1, 3, 5, 7, 9, 11, 13, 15] and sum(sc.values()) == 8
    states = {(f.slot.key, f.slot.match): f.state for f in schedule.forms}
    assert states[("dosing.administration", (("route", "iv"), ("dose_number", 1)))] == State.ENTERED
    assert states[("dosing.administration", (("route", "iv"), ("dose_number", 2)))] == State.OVERDUE
    # The dose-2 slot is due at 07:10 Athens on 11 March: before then it is upcoming, then due.
    early = build_schedule(p, now=athens(2025, 3, 11, 7, 0))
    late = build_schedule(p, now=athens(2025, 3, 11, 7, 20))
    key = ("dosing.administration", (("route", "iv"), ("dose_number", 2)))
    assert {(f.slot.key, f.slot.match): f.state for f in early.forms}[key] == State.UPCOMING
    assert {(f.slot.key, f.slot.match): f.state for f in late.forms}[key] == State.DUE


def test_schedule_runs_from_randomization_before_first_dose(coordinator, make_randomized, site_a):
    p = make_randomized(athens(2025, 3, 10, 23, 0))
    schedule = build_schedule(p, now=athens(2025, 3, 10, 23, 5))
    assert doses_by_day(schedule, "iv")[1] == 1
    keys = {f.slot.key for f in schedule.forms}
    assert {"dosing.administration", "outcomes.vital_status", "outcomes.end_of_study"} <= keys
    vital = [f for f in schedule.forms if f.slot.key == "outcomes.vital_status"]
    assert [f.slot.day for f in vital] == [28, 90] and all(f.state == State.UPCOMING for f in vital)


def test_death_on_day_5(coordinator, randomized):
    give(coordinator, randomized, "iv", 1, athens(2025, 3, 10, 10, 30))
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": athens(2025, 3, 14, 12, 0), "cause": "Septic shock"})
    schedule = build_schedule(randomized, now=LATER)
    iv = doses_by_day(schedule, "iv")
    # Day 5 (14 March): the 02:30 and 10:30 doses were due before death; 18:30 was not.
    assert iv[5] == 2 and max(iv) == 5
    after = [f for f in schedule.forms if f.slot.day and f.slot.day > 5 and f.slot.key != "dosing.administration"]
    assert after and all(f.state == State.NOT_EXPECTED and f.why_not == "after death" for f in after)
    eos = next(f for f in schedule.forms if f.slot.key == "outcomes.end_of_study")
    assert eos.expected and eos.state == State.OVERDUE


def test_withdrawal_from_treatment_only_keeps_follow_up(coordinator, screened):
    give(coordinator, screened, "iv", 1, athens(2025, 3, 10, 10, 30))
    withdraw(coordinator, screened, "treatment", dt.date(2025, 3, 12))  # day 3, through the consent service
    assert adapters.withdrawal_for(screened) == adapters.Withdrawal(type="treatment", date=dt.date(2025, 3, 12))
    schedule = build_schedule(screened, now=LATER)
    assert max(doses_by_day(schedule, "iv")) == 3 and max(doses_by_day(schedule, "sc")) == 3
    vital = [f for f in schedule.forms if f.slot.key == "outcomes.vital_status"]
    assert all(f.expected for f in vital)
    labs = [f for f in schedule.forms if f.slot.key.startswith("labs.") and f.slot.day == 28]
    assert all(f.expected for f in labs)


def test_withdrawal_from_everything_stops_all_but_end_of_study(coordinator, screened):
    give(coordinator, screened, "iv", 1, athens(2025, 3, 10, 10, 30))
    withdraw(coordinator, screened, "data_collection", dt.date(2025, 3, 12))
    schedule = build_schedule(screened, now=LATER)
    assert max(doses_by_day(schedule, "iv")) == 3
    later = [f for f in schedule.forms if f.slot.day and f.slot.day > 3]
    assert later and not any(f.expected for f in later)
    eos = next(f for f in schedule.forms if f.slot.key == "outcomes.end_of_study")
    assert eos.expected and eos.slot.opens_at == athens(2025, 3, 13, 0, 0)


def test_discontinuation_of_one_route(coordinator, randomized):
    give(coordinator, randomized, "iv", 1, athens(2025, 3, 10, 10, 30))
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "sc", "discontinued_on": dt.date(2025, 3, 12), "discontinuation_reason": "adverse_event"})
    schedule = build_schedule(randomized, now=LATER)
    assert sorted(doses_by_day(schedule, "sc")) == [1, 3]
    assert sum(doses_by_day(schedule, "iv").values()) == 45
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "iv", "discontinued_on": dt.date(2025, 3, 13), "discontinuation_reason": "clinical_decision"})
    schedule = build_schedule(randomized, now=LATER)
    assert max(doses_by_day(schedule, "iv")) == 4
    # SOFA and labs continue after discontinuation (follow-up continues).
    assert all(f.expected for f in schedule.forms if f.slot.key == "outcomes.vital_status")


def test_an_entered_form_is_shown_even_when_no_longer_expected(coordinator, randomized):
    give(coordinator, randomized, "iv", 1, athens(2025, 3, 10, 10, 30))
    # Dose 2 (due 18:30) is recorded as not given, then the death at 18:00 makes it not expected:
    # the record stays on the schedule. (A death before a dose recorded as given is refused.)
    form_create(actor=coordinator, spec=ADMINISTRATION, participant=randomized, submit=True,
                data={"route": "iv", "dose_number": 2, "given": False, "reason_not_given": "death"})
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": athens(2025, 3, 10, 18, 0), "cause": "x"})
    dose2 = next(f for f in build_schedule(randomized, now=LATER).forms
                 if f.slot.match == (("route", "iv"), ("dose_number", 2)))
    assert not dose2.expected and dose2.state == State.ENTERED


def test_a_visit_slot_names_its_form_and_day_once(randomized):
    labels = {(f.slot.key, f.slot.day): f.slot.label for f in build_schedule(randomized, now=LATER).forms}
    assert labels[("sofa.sofa_day", 13)] == "SOFA day 13"  # the form is "SOFA day": not "SOFA day day 13"
    assert labels[("labs.lab_panel", 3)] == "Lab panel day 3"
