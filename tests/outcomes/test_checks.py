"""The outcome forms' edit checks, on forms entered through the form services."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create
from ecrf.outcomes.specs import DEATH, END_OF_STUDY, NEW_INFECTION, VITAL_STATUS
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def enter(actor, spec, participant, **data):
    return form_create(actor=actor, spec=spec, participant=participant, data=data, submit=True)


def died(actor, participant, on_day: int):
    return enter(actor, DEATH, participant, died_at=DAY_ONE + (on_day - 1) * DAY, cause="Refractory septic shock")


def test_vital_status_missing_past_its_window(coordinator, randomized):
    # Day 28 is 2025-04-06; its window runs to day 35 (2025-04-13, Athens).
    assert run("OUT-001", randomized, now=DAY_ONE + 34 * DAY) == []
    assert [(t.form_id, t.item) for t in run("OUT-001", randomized, now=DAY_ONE + 35 * DAY)] == [(None, "28")]
    enter(coordinator, VITAL_STATUS, randomized, day=28, vital_status="alive", assessed_on=dt.date(2025, 4, 6))
    assert run("OUT-001", randomized, now=DAY_ONE + 35 * DAY) == []
    assert [t.item for t in run("OUT-001", randomized, now=DAY_ONE + 97 * DAY)] == ["90"]


def test_no_vital_status_expected_after_the_end_of_study(coordinator, randomized):
    enter(coordinator, END_OF_STUDY, randomized, disposition="lost_to_follow_up", disposition_date=dt.date(2025, 4, 6))
    assert [t.item for t in run("OUT-001", randomized, now=DAY_ONE + 97 * DAY)] == ["28"]  # on the day 28 date
    enter(coordinator, VITAL_STATUS, randomized, day=28, vital_status="unknown", assessed_on=dt.date(2025, 4, 6),
          last_contact_date=dt.date(2025, 4, 1))
    assert run("OUT-001", randomized, now=DAY_ONE + 97 * DAY) == []  # day 90 is after it


def test_alive_after_a_recorded_death(coordinator, randomized):
    enter(coordinator, VITAL_STATUS, randomized, day=28, vital_status="alive", assessed_on=dt.date(2025, 4, 6))
    assert run("OUT-002", randomized) == []
    died(coordinator, randomized, 40)  # after day 28: the day-28 status stays right
    assert run("OUT-002", randomized) == []
    later = enter(coordinator, VITAL_STATUS, randomized, day=90, vital_status="alive", assessed_on=dt.date(2025, 6, 7))
    assert forms(run("OUT-002", randomized)) == {later.pk}  # not the day-28 status


def test_end_of_study_disposition_after_death(coordinator, randomized):
    died(coordinator, randomized, 20)
    eos = enter(coordinator, END_OF_STUDY, randomized, disposition="lost_to_follow_up",
                disposition_date=dt.date(2025, 4, 20))
    assert forms(run("OUT-003", randomized)) == {eos.pk}


def test_end_of_study_died_is_consistent(coordinator, randomized):
    died(coordinator, randomized, 20)
    enter(coordinator, END_OF_STUDY, randomized, disposition="died", disposition_date=dt.date(2025, 3, 29))
    assert run("OUT-003", randomized) == []


def test_new_infection_after_death(coordinator, randomized):
    infection = {"infection_site": "lung", "diagnosed_by": "culture"}
    same_day = enter(coordinator, NEW_INFECTION, randomized, onset_date=dt.date(2025, 3, 14), **infection)
    after = enter(coordinator, NEW_INFECTION, randomized, onset_date=dt.date(2025, 3, 20), **infection)
    died(coordinator, randomized, 5)  # 2025-03-14, Athens
    assert forms(run("OUT-004", randomized)) == {after.pk}
    assert same_day.pk not in forms(run("OUT-004", randomized))
