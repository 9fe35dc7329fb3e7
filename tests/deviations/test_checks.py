"""The protocol-deviation form's edit checks, on forms entered through the form services."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create
from ecrf.deviations.specs import DEVIATION
from ecrf.outcomes.specs import END_OF_STUDY
from tests.support.checks import forms, run

pytestmark = pytest.mark.django_db


def deviation(actor, participant, **overrides):
    data = {"category": "assessment", "description": "SOFA day 3 late", "occurred_on": dt.date(2025, 3, 12),
            "found_by": "site", "impact": "minor", "corrective_action": ""}
    data.update(overrides)
    return form_create(actor=actor, spec=DEVIATION, participant=participant, data=data, submit=True)


def test_deviation_before_the_sepsis_episode(coordinator, randomized):
    # Sepsis-3 on 2025-03-09 10:00 Athens: a deviation that day is possible (screening), not earlier.
    deviation(coordinator, randomized, category="eligibility", occurred_on=dt.date(2025, 3, 9))
    early = deviation(coordinator, randomized, category="eligibility", occurred_on=dt.date(2025, 3, 8))
    assert forms(run("DV-001", randomized)) == {early.pk}


def test_deviation_after_end_of_study(coordinator, randomized):
    deviation(coordinator, randomized, occurred_on=dt.date(2025, 4, 20))
    late = deviation(coordinator, randomized, occurred_on=dt.date(2025, 4, 22))
    form_create(actor=coordinator, spec=END_OF_STUDY, participant=randomized, submit=True,
                data={"disposition": "lost_to_follow_up", "disposition_date": dt.date(2025, 4, 20)})
    assert forms(run("DV-002", randomized)) == {late.pk}


def test_major_deviation_without_corrective_action(coordinator, randomized):
    deviation(coordinator, randomized, impact="minor")
    deviation(coordinator, randomized, impact="major", corrective_action="Retrained the night team")
    bare = deviation(coordinator, randomized, impact="major", corrective_action="  ")
    assert forms(run("DV-003", randomized)) == {bare.pk}
