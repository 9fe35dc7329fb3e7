"""The periodic missed-dose sweep (doses that are never logged)."""

from __future__ import annotations

import datetime as dt
import difflib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ecrf.celery import app
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_create
from ecrf.deviations.models import Deviation
from ecrf.dosing.services import missed_dose_sweep
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.dosing.tasks import sweep_missed_doses
from ecrf.outcomes.specs import DEATH
from tests.support.screening import withdraw
from tests.support.times import athens

pytestmark = pytest.mark.django_db
FIRST = athens(2025, 3, 10, 10, 30)  # randomized 10:00 (fixture); IV every 8 h, SC every 48 h from here


def give(actor, participant, route, number, at=None):
    hours = 8 if route == "iv" else 48
    at = at or FIRST + dt.timedelta(hours=hours * (number - 1))
    form_create(actor=actor, spec=ADMINISTRATION, participant=participant, submit=True,
                data={"route": route, "dose_number": number, "given": True, "started_at": at,
                      "duration_minutes": 30 if route == "iv" else 1, "volume_ml": "20" if route == "iv" else "0.5"})


def rules(participant=None):
    qs = Deviation.objects.all() if participant is None else Deviation.objects.filter(participant=participant)
    return sorted(qs.values_list("rule_code", flat=True))


def test_overdue_dose_beyond_grace_raises_once(coordinator, randomized):
    give(coordinator, randomized, "iv", 1)
    give(coordinator, randomized, "sc", 1)
    # Day 2, 20:00: IV dose 2 (due day 1 18:30) is past its 24 h grace; IV 3-5 are still within it.
    now = athens(2025, 3, 11, 20, 0)
    report = missed_dose_sweep(now=now)
    assert report.raised == 1 and report.participants == 1
    deviation = Deviation.objects.get()
    assert deviation.rule_code == "missed_dose:iv:2" and deviation.category == "missed_dose"
    assert deviation.found_by == "system" and deviation.status == "submitted"
    assert deviation.occurred_on == dt.date(2025, 3, 10)
    assert "IV study drug dose 2, due 2025-03-10 18:30" in deviation.description
    assert "anakinra" not in deviation.description.lower()
    # Running it again (or later, with nothing new overdue) raises nothing more.
    assert missed_dose_sweep(now=now).raised == 0
    assert missed_dose_sweep(now=now + dt.timedelta(minutes=15)).raised == 0
    assert rules() == ["missed_dose:iv:2"]


def test_sweep_and_recorded_not_given_dose_share_one_rule(api, coordinator, randomized):
    give(coordinator, randomized, "iv", 1)
    give(coordinator, randomized, "sc", 1)
    missed_dose_sweep(now=athens(2025, 3, 11, 20, 0))
    # The site then records the dose as not given: the same deviation, not a second one.
    r = api(coordinator).post("/api/v1/administrations/", {
        "participant": randomized.pk, "route": "iv", "dose_number": 2, "given": False,
        "reason_not_given": "preparation_unavailable", "submit": True}, format="json")
    assert r.status_code == 201, r.json()
    # And the other way round: a dose recorded as not given first is not raised again by the sweep.
    r = api(coordinator).post("/api/v1/administrations/", {
        "participant": randomized.pk, "route": "iv", "dose_number": 3, "given": False,
        "reason_not_given": "clinical_decision", "submit": True}, format="json")
    assert r.status_code == 201, r.json()
    assert rules() == ["missed_dose:iv:2", "missed_dose:iv:3"]
    missed_dose_sweep(now=athens(2025, 3, 12, 3, 0))  # IV 3 (due day 2 02:30) now past grace too
    assert rules() == ["missed_dose:iv:2", "missed_dose:iv:3"]


def test_dose_not_given_because_of_death_is_not_missed(api, coordinator, randomized):
    give(coordinator, randomized, "iv", 1)
    give(coordinator, randomized, "sc", 1)
    give(coordinator, randomized, "iv", 2)
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": athens(2025, 3, 11, 1, 0), "cause": "Septic shock"})
    # Weeks later: every dose after the death is no longer expected.
    assert missed_dose_sweep(now=athens(2025, 3, 30, 12, 0)).raised == 0
    assert not Deviation.objects.exists()


def test_no_deviation_after_withdrawal_from_treatment(coordinator, screened):
    for n in range(1, 6):  # IV doses of days 1 and 2
        give(coordinator, screened, "iv", n)
    give(coordinator, screened, "sc", 1)
    now = athens(2025, 3, 30, 12, 0)
    withdraw(coordinator, screened, "treatment", dt.date(2025, 3, 11))  # through the consent service
    assert missed_dose_sweep(now=now).raised == 0
    assert not Deviation.objects.exists()


def test_without_the_withdrawal_every_later_dose_is_missed(coordinator, screened):
    """The control for the test above: the same doses, no withdrawal."""
    for n in range(1, 6):
        give(coordinator, screened, "iv", n)
    give(coordinator, screened, "sc", 1)
    assert missed_dose_sweep(now=athens(2025, 3, 30, 12, 0)).raised == (45 - 5) + (8 - 1)


def test_withdrawal_from_data_collection_stops_the_sweep_too(coordinator, screened):
    give(coordinator, screened, "iv", 1)
    give(coordinator, screened, "sc", 1)
    withdraw(coordinator, screened, "data_collection", dt.date(2025, 3, 10))
    missed_dose_sweep(now=athens(2025, 3, 30, 12, 0))
    assert rules() == ["missed_dose:iv:2"]  # due 18:30 on the withdrawal day itself


def test_no_deviation_after_permanent_discontinuation_of_a_route(coordinator, randomized):
    for n in range(1, 7):  # IV days 1-2 and the first of day 3
        give(coordinator, randomized, "iv", n)
    give(coordinator, randomized, "sc", 1)
    form_create(actor=coordinator, spec=DISCONTINUATION, participant=randomized, submit=True,
                data={"route": "sc", "discontinued_on": dt.date(2025, 3, 11), "discontinuation_reason": "adverse_event"})
    missed_dose_sweep(now=athens(2025, 3, 13, 20, 0))
    # SC dose 2 (12 March 10:30) is no longer expected; IV doses 7 and 8 (12 March 10:30 and
    # 18:30) are past their grace; IV 9 (13 March 02:30) is not yet.
    assert rules() == ["missed_dose:iv:7", "missed_dose:iv:8"]


def test_without_any_dose_only_dose_1_of_each_route(coordinator, randomized):
    # Nothing logged at all: the later doses' times depend on when dose 1 is given.
    missed_dose_sweep(now=athens(2025, 3, 13, 12, 0))
    assert rules() == ["missed_dose:iv:1", "missed_dose:sc:1"]


def test_within_grace_nothing_is_raised(coordinator, randomized):
    assert missed_dose_sweep(now=athens(2025, 3, 11, 9, 59)).raised == 0


def test_locked_participant_is_skipped_and_caught_up_later(coordinator, randomized):
    scope = LockScope.objects.create(level="participant", participant=randomized, kind="freeze",
                                     reason="SDV")
    report = missed_dose_sweep(now=athens(2025, 3, 13, 12, 0))
    assert report.skipped_locked == 1 and not Deviation.objects.exists()
    scope.released_at = timezone.now()
    scope.save()
    assert missed_dose_sweep(now=athens(2025, 3, 13, 12, 0)).raised == 2


def test_only_recent_participants_are_swept(coordinator, randomized, make_randomized, site_a):
    later = make_randomized(athens(2025, 4, 20, 9, 0))
    missed_dose_sweep(now=athens(2025, 4, 25, 9, 0))  # 46 days after the first randomization
    assert rules(randomized) == [] and rules(later) == ["missed_dose:iv:1", "missed_dose:sc:1"]


def test_beat_runs_the_task_every_15_minutes(coordinator, make_randomized, site_a):
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "ecrf.dosing.tasks.sweep_missed_doses"]
    assert len(entries) == 1
    assert entries[0]["schedule"].minute == set(range(0, 60, 15))
    p = make_randomized(timezone.now() - dt.timedelta(days=3))
    assert sweep_missed_doses.apply().get() == {"participants": 1, "raised": 2, "skipped_locked": 0}
    assert sweep_missed_doses.apply().get()["raised"] == 0
    assert rules(p) == ["missed_dose:iv:1", "missed_dose:sc:1"]


def test_the_sweeps_queries_do_not_grow_with_the_participants(coordinator, randomized, make_randomized):
    """The schedules are built set-based: sweeping three participants within their grace costs
    the queries of sweeping one (the raised deviations cost their own writes)."""
    now = athens(2025, 3, 10, 11, 0)  # within every first dose's grace: nothing to raise
    missed_dose_sweep(now=now)  # the content types are cached after the first read
    with CaptureQueriesContext(connection) as one:
        assert missed_dose_sweep(now=now).participants == 1
    for minute in (10, 20):
        make_randomized(athens(2025, 3, 10, 10, minute))
    with CaptureQueriesContext(connection) as three:
        report = missed_dose_sweep(now=now)
    assert report.participants == 3 and report.raised == 0
    a = [q["sql"][:70] for q in one.captured_queries]
    b = [q["sql"][:70] for q in three.captured_queries]
    assert len(three) == len(one), "\n".join(difflib.unified_diff(a, b, lineterm=""))
