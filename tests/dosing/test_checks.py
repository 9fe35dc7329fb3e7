"""The administration log's edit checks: each fires on a violation the forms accept, and stays quiet
on the same participant's clean record."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create, form_update
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.outcomes.specs import DEATH
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE
from tests.support.screening import withdraw
from tests.support.times import iv, sc

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def dose(actor, participant, data):
    return form_create(actor=actor, spec=ADMINISTRATION, participant=participant, data=data, submit=True)


@pytest.fixture
def first_doses(coordinator, randomized):
    """Doses 1 of both routes given 15 and 20 minutes after randomization."""
    start = randomized.randomized_at
    return (dose(coordinator, randomized, iv(start + 0.25 * H, 1)), dose(coordinator, randomized, sc(start + 0.33 * H, 1)))


def test_late_first_dose(coordinator, make_randomized, randomized, first_doses):
    late = make_randomized(DAY_ONE, sepsis3_at=DAY_ONE - 71 * H)
    first = dose(coordinator, late, iv(DAY_ONE + 2 * H, 1))  # 73 h after Sepsis-3
    dose(coordinator, late, iv(DAY_ONE + 10 * H, 2))  # a later dose is not the first
    assert forms(run("DOSE-001", late, randomized)) == {first.pk}


def test_sc_dose_too_soon(coordinator, randomized, first_doses):
    start = randomized.randomized_at
    on_time = dose(coordinator, randomized, sc(start + 48 * H, 2))
    assert run("DOSE-002", randomized) == []
    early = dose(coordinator, randomized, sc(on_time.started_at + 39 * H, 3))
    assert forms(run("DOSE-002", randomized)) == {early.pk}


def test_dose_after_discontinuation_dated_back(coordinator, randomized, first_doses):
    start = randomized.randomized_at
    later_sc = dose(coordinator, randomized, sc(start + 48 * H, 2))  # 2025-03-12, day 3
    later_iv = dose(coordinator, randomized, iv(start + 48 * H, 7))
    assert run("DOSE-003", randomized) == []
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "sc", "discontinued_on": dt.date(2025, 3, 11), "discontinuation_reason": "adverse_event"})
    assert forms(run("DOSE-003", randomized)) == {later_sc.pk}  # the SC route only
    assert later_iv.pk not in forms(run("DOSE-003", randomized))


def test_dose_on_the_discontinuation_date_is_not_after_it(coordinator, randomized, first_doses):
    # Site dates: the SC dose 2 at 10:20 Athens on 2025-03-12 is on the day of discontinuation.
    dose(coordinator, randomized, sc(randomized.randomized_at + 48 * H, 2))
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "both", "discontinued_on": dt.date(2025, 3, 12), "discontinuation_reason": "adverse_event"})
    assert run("DOSE-003", randomized) == []


def test_dose_after_withdrawal_dated_back(coordinator, screened):
    start = screened.randomized_at
    dose(coordinator, screened, iv(start + 0.25 * H, 1))
    later = dose(coordinator, screened, iv(start + 48 * H, 7))
    assert run("DOSE-004", screened) == []
    withdraw(coordinator, screened, "treatment", dt.date(2025, 3, 11))
    assert forms(run("DOSE-004", screened)) == {later.pk}


def test_dose_after_a_draft_death(coordinator, randomized, first_doses):
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=False,
                data={"died_at": randomized.randomized_at + 12 * H, "cause": "Refractory septic shock"})
    later = dose(coordinator, randomized, iv(randomized.randomized_at + 24 * H, 4))  # the form sees no draft death
    assert forms(run("DOSE-005", randomized)) == {later.pk}


def test_dose_after_treatment_end_once_the_first_dose_is_corrected(coordinator, randomized):
    start = randomized.randomized_at
    first = dose(coordinator, randomized, iv(start + 5 * H, 1))
    last = dose(coordinator, randomized, iv(start + 5 * H + 15 * 24 * H - 0.5 * H, 45))
    assert run("DOSE-006", randomized) == []
    form_update(actor=coordinator, spec=ADMINISTRATION, form=first, version=first.version, reason="Time from the chart",
                data={"started_at": start + 0.25 * H})
    assert forms(run("DOSE-006", randomized)) == {last.pk}


def test_volume_far_from_the_prepared_volume(coordinator, randomized, first_doses):
    start = randomized.randomized_at
    small_iv = dose(coordinator, randomized, iv(start + 8 * H, 2, volume_ml="12"))
    big_sc = dose(coordinator, randomized, sc(start + 48 * H, 2, volume_ml="1.5"))
    dose(coordinator, randomized, iv(start + 16 * H, 3, volume_ml="24"))  # within 20%
    assert forms(run("DOSE-007", randomized)) == {small_iv.pk, big_sc.pk}


def test_interruption_longer_than_the_administration(coordinator, randomized, first_doses):
    start = randomized.randomized_at
    odd = dose(coordinator, randomized, iv(start + 8 * H, 2, interrupted=True, interruption_minutes=45))
    dose(coordinator, randomized, iv(start + 16 * H, 3, interrupted=True, interruption_minutes=10))
    assert forms(run("DOSE-008", randomized)) == {odd.pk}


def not_given(n: int, reason: str) -> dict:
    return {"route": "iv", "dose_number": n, "given": False, "reason_not_given": reason}


def test_not_given_for_death_without_a_death_form(coordinator, randomized, first_doses):
    missed = dose(coordinator, randomized, not_given(2, "death"))
    assert forms(run("DOSE-009", randomized)) == {missed.pk}
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": randomized.randomized_at + 6 * H, "cause": "Refractory septic shock"})
    assert run("DOSE-009", randomized) == []


def test_not_given_for_discontinuation_without_one(coordinator, randomized, first_doses):
    missed = dose(coordinator, randomized, not_given(2, "discontinued"))
    assert forms(run("DOSE-010", randomized)) == {missed.pk}
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "sc", "discontinued_on": dt.date(2025, 3, 10), "discontinuation_reason": "adverse_event"})
    assert forms(run("DOSE-010", randomized)) == {missed.pk}  # another route's discontinuation
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "iv", "discontinued_on": dt.date(2025, 3, 10), "discontinuation_reason": "adverse_event"})
    assert run("DOSE-010", randomized) == []


def test_stale_draft(coordinator, randomized, first_doses):
    draft = form_create(actor=coordinator, spec=ADMINISTRATION, participant=randomized, submit=False,
                        data=iv(randomized.randomized_at + 8 * H, 2))
    assert run("DOSE-011", randomized, now=draft.updated_at + dt.timedelta(days=6)) == []
    assert forms(run("DOSE-011", randomized, now=draft.updated_at + dt.timedelta(days=8))) == {draft.pk}
