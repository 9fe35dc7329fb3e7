"""The concomitant-medication form's edit checks, on forms entered through the form services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.crf.services import form_create
from ecrf.medications.specs import CONMED
from ecrf.outcomes.specs import DEATH
from tests.support import stages
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE

pytestmark = pytest.mark.django_db


def medication(actor, participant, **overrides):
    data = {"drug": "Meropenem", "indication": "Pneumonia", "dose": Decimal(1), "dose_unit": "g", "route": "iv",
            "started_on": dt.date(2025, 3, 9)}
    data.update(overrides)
    return form_create(actor=actor, spec=CONMED, participant=participant, data=data, submit=True)


def test_corticosteroid_contradicting_eligibility(coordinator, randomized):
    steroid = {"drug": "Hydrocortisone", "indication": "Shock", "dose": Decimal(100), "dose_unit": "mg",
               "is_corticosteroid": True}
    medication(coordinator, randomized, hydrocortisone_mg_per_day=Decimal(200), **steroid)  # at the limit
    high = medication(coordinator, randomized, hydrocortisone_mg_per_day=Decimal(400), **steroid)
    assert high.contradicts_eligibility
    assert forms(run("CM-001", randomized)) == {high.pk}


def test_infusion_rate_by_a_non_infusion_route(coordinator, randomized):
    medication(coordinator, randomized, drug="Norepinephrine", dose=Decimal("0.1"), dose_unit="ug/kg/min")
    oral = medication(coordinator, randomized, drug="Norepinephrine", dose=Decimal("0.1"), dose_unit="ug/kg/min",
                      route="oral")
    assert forms(run("CM-002", randomized)) == {oral.pk}


def test_stopped_after_death(coordinator, randomized):
    medication(coordinator, randomized, stopped_on=dt.date(2025, 3, 14))  # the day of death
    after = medication(coordinator, randomized, stopped_on=dt.date(2025, 3, 16))
    medication(coordinator, randomized)  # ongoing
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": DAY_ONE + dt.timedelta(days=4), "cause": "Refractory septic shock"})
    assert forms(run("CM-003", randomized)) == {after.pk}


def test_stop_date_in_the_future_at_the_site(coordinator, randomized):
    # 2025-03-20 12:00 UTC is 14:00 in Athens: the form accepts the UTC+14 date, 2025-03-21.
    with stages.clock(dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.UTC)):
        medication(coordinator, randomized, stopped_on=dt.date(2025, 3, 20))
        planned = medication(coordinator, randomized, stopped_on=dt.date(2025, 3, 21))
    assert forms(run("CM-004", randomized)) == {planned.pk}
