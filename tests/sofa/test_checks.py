"""The daily SOFA form's edit checks, on forms entered through the form services."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create
from ecrf.outcomes.specs import DEATH
from ecrf.sofa.specs import SOFA_DAY
from tests.sofa.conftest import FULL_DAY
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE
from tests.support.screening import withdraw

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def sofa(actor, participant, day: int, *, submit: bool = True, drop: tuple[str, ...] = (), **values):
    data = {k: v for k, v in {**FULL_DAY, **values}.items() if k not in drop}
    return form_create(actor=actor, spec=SOFA_DAY, participant=participant, submit=submit, data={"day": day, **data})


# Per check: (unusual values, usual values) pairs, each entered on its own day of one participant.
SOFT_CASES = {
    "SOFA-001": [({"pao2": "30"}, {"pao2": "45"}), ({"pao2": "70", "pao2_unit": "kPa"}, {"pao2": "60", "pao2_unit": "kPa"})],
    "SOFA-002": [({"platelets": "1500"}, {"platelets": "900"}),
                 ({"platelets": "1000.1"}, {"platelets": "1000"}),  # the soft limits are inclusive
                 ({"platelets": "4.9"}, {"platelets": "5"})],
    "SOFA-003": [({"bilirubin": "40"}, {"bilirubin": "25"}),
                 ({"bilirubin": "600", "bilirubin_unit": "umol/L"}, {"bilirubin": "400", "bilirubin_unit": "umol/L"})],
    "SOFA-004": [({"map": "35"}, {"map": "45"})],
    "SOFA-005": [({"norepinephrine": "1.5"}, {"norepinephrine": "0.9"}), ({"dopamine": "25"}, {"dopamine": "15"})],
    "SOFA-006": [({"creatinine": "20", "creatinine_unit": "umol/L"}, {"creatinine": "30", "creatinine_unit": "umol/L"}),
                 ({"creatinine": "16", "creatinine_unit": "mg/dL"}, {"creatinine": "14", "creatinine_unit": "mg/dL"})],
    "SOFA-007": [({"urine_output": "9000"}, {"urine_output": "7000"})],
    "SOFA-008": [({"fio2": "0.7", "respiratory_support": "none"}, {"fio2": "0.7", "respiratory_support": "invasive"})],
}


@pytest.mark.parametrize("code", sorted(SOFT_CASES))
def test_value_beyond_the_soft_limits(coordinator, randomized, code):
    days = iter(range(1, 16))
    flagged = set()
    for unusual, usual in SOFT_CASES[code]:
        form = sofa(coordinator, randomized, next(days), **unusual)
        assert form.review_flags  # the scoring module flags it too
        flagged.add(form.pk)
        sofa(coordinator, randomized, next(days), **usual)
    assert forms(run(code, randomized)) == flagged


def test_missing_day_past_its_window(coordinator, randomized):
    sofa(coordinator, randomized, 1)
    # Day 2 is 2025-03-11 (Athens); its window (the day and the next) closes at the end of 03-12.
    assert run("SOFA-009", randomized, now=DAY_ONE + 38 * H) == []  # 03-12 00:00 Athens
    found = run("SOFA-009", randomized, now=DAY_ONE + 62 * H)  # 03-13 00:00 Athens
    assert [(t.form_id, t.item) for t in found] == [(None, "2")]
    sofa(coordinator, randomized, 2)
    assert run("SOFA-009", randomized, now=DAY_ONE + 62 * H) == []
    assert [t.item for t in run("SOFA-009", randomized, now=DAY_ONE + 90 * H)] == ["3"]


def test_missing_baseline_and_days_after_death(coordinator, randomized):
    assert [t.item for t in run("SOFA-009", randomized, now=DAY_ONE + 40 * H)] == ["1"]
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": DAY_ONE + 2 * H, "cause": "Refractory septic shock"})
    # Death on day 1: from the day of death on, no SOFA form is expected (each day counts 24).
    assert run("SOFA-009", randomized, now=DAY_ONE + 400 * H) == []


def test_no_day_expected_after_withdrawal_from_data_collection(coordinator, screened):
    for day in (1, 2):
        sofa(coordinator, screened, day)
    withdraw(coordinator, screened, "data_collection", dt.date(2025, 3, 12))  # day 3
    later = DAY_ONE + 20 * 24 * H
    assert [t.item for t in run("SOFA-009", screened, now=later)] == ["3"]  # the day of withdrawal itself
    sofa(coordinator, screened, 3)
    assert run("SOFA-009", screened, now=later) == []


def test_component_missing_three_days_running(coordinator, randomized):
    sofa(coordinator, randomized, 1)
    sofa(coordinator, randomized, 2, drop=("platelets",))
    third_missing = sofa(coordinator, randomized, 3, drop=("platelets",))
    assert run("SOFA-010", randomized) == []  # two days
    fourth = sofa(coordinator, randomized, 4, drop=("platelets",))
    sofa(coordinator, randomized, 5)
    assert third_missing.imputed_components.get("coagulation")
    assert forms(run("SOFA-010", randomized)) == {fourth.pk}


def test_sofa_day_after_death(coordinator, randomized):
    sofa(coordinator, randomized, 3)
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": DAY_ONE + 48 * H, "cause": "Refractory septic shock"})  # day 3
    later = sofa(coordinator, randomized, 4)
    assert forms(run("SOFA-011", randomized)) == {later.pk}


def test_stale_draft(coordinator, randomized):
    draft = sofa(coordinator, randomized, 1, submit=False)
    assert run("SOFA-012", randomized, now=draft.updated_at + dt.timedelta(days=6)) == []
    assert forms(run("SOFA-012", randomized, now=draft.updated_at + dt.timedelta(days=8))) == {draft.pk}
