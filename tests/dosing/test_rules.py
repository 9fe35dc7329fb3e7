"""The administration and discontinuation rules (``ecrf.dosing.rules``) on plain values, at the
edges of the treatment period (15 x 24 h from the first dose; IV every 8 h, SC every 48 h)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ecrf.dosing.rules import (
    CLOCK_SKEW,
    AdministrationContext,
    AdministrationEntry,
    DiscontinuationEntry,
    administration_problems,
    discontinuation_problems,
    discontinuation_routes_clashing,
    due_times,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL as P

ATHENS = ZoneInfo("Europe/Athens")
RANDOMIZED = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
FIRST = RANDOMIZED + dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)
CONTEXT = AdministrationContext(randomized_at=RANDOMIZED, zone=ATHENS, first_other_dose_at=FIRST)


def dose(**values: object) -> AdministrationEntry:
    base = AdministrationEntry(route="iv", dose_number=2, given=True, started_at=FIRST + dt.timedelta(hours=8),
                               duration_minutes=60, volume_ml=Decimal("100"))
    return replace(base, **values)  # type: ignore[arg-type]


def problems(entry: AdministrationEntry, context: AdministrationContext = CONTEXT) -> dict[str, str]:
    return administration_problems(entry, context=context, protocol=P, now=NOW)


def test_the_schedule_has_45_iv_and_8_sc_doses() -> None:
    assert len(due_times("iv", FIRST, P)) == 45 and len(due_times("sc", FIRST, P)) == 8
    assert due_times("sc", FIRST, P)[1] - FIRST == dt.timedelta(hours=48)


def test_a_given_dose_in_schedule_has_no_problem() -> None:
    assert problems(dose()) == {}


def test_an_sc_injection_needs_no_duration_and_an_infusion_does() -> None:
    sc = dose(route="sc", dose_number=1, started_at=FIRST, duration_minutes=None, volume_ml=Decimal("0.5"))
    assert problems(sc, AdministrationContext(randomized_at=RANDOMIZED, zone=ATHENS, first_other_dose_at=FIRST)) == {}
    assert "duration_minutes" in problems(dose(duration_minutes=None))


@pytest.mark.parametrize(("values", "field"), [
    ({"reason_not_given": "other"}, "reason_not_given"),
    ({"duration_minutes": None}, "duration_minutes"),
    ({"volume_ml": Decimal("0")}, "volume_ml"),
    ({"given": False, "started_at": None, "duration_minutes": None, "volume_ml": None}, "reason_not_given"),
    ({"given": False, "reason_not_given": "other", "started_at": None, "duration_minutes": None, "volume_ml": None},
     "reason_other"),
    ({"given": False, "reason_not_given": "clinical_decision"}, "started_at"),
    ({"interrupted": True}, "interruption_minutes"),
    ({"interruption_notes": "pump alarm"}, "interrupted"),
    ({"dose_number": 46}, "dose_number"),
    ({"dose_number": 0}, "dose_number"),
])
def test_each_entry_problem_is_reported_on_its_field(values: dict[str, object], field: str) -> None:
    assert list(problems(dose(**values))) == [field]


def test_dose_numbers_of_each_route() -> None:
    assert problems(dose(dose_number=45)) == {}
    assert problems(dose(route="sc", dose_number=8)) == {}
    assert list(problems(dose(route="sc", dose_number=9))) == ["dose_number"]


def test_time_edges() -> None:
    before = problems(dose(started_at=RANDOMIZED - TICK), replace(CONTEXT, first_other_dose_at=None))
    assert before == {"started_at": "The start time is before randomization (2026-11-01 12:00 EET); doses follow "
                                    "randomization."}
    late_context = replace(CONTEXT, randomized_at=NOW - dt.timedelta(days=1), first_other_dose_at=None)
    assert problems(dose(dose_number=1, started_at=NOW + CLOCK_SKEW), late_context) == {}
    assert list(problems(dose(dose_number=1, started_at=NOW + CLOCK_SKEW + TICK), late_context)) == ["started_at"]
    end = FIRST + dt.timedelta(days=P.treatment_days)
    assert problems(dose(dose_number=45, started_at=end - TICK)) == {}
    assert "after the end of treatment" in problems(dose(dose_number=45, started_at=end))["started_at"]


def test_no_dose_after_death_withdrawal_or_discontinuation() -> None:
    started = FIRST + dt.timedelta(hours=8)
    assert problems(dose(), replace(CONTEXT, died_at=started)) == {}
    assert "recorded death" in problems(dose(), replace(CONTEXT, died_at=started - TICK))["started_at"]
    # Site dates: 2026-11-01 19:00 UTC is 21:00 in Athens, still 1 November.
    on_the_day = started.astimezone(ATHENS).date()
    assert problems(dose(), replace(CONTEXT, treatment_withdrawn_on=on_the_day)) == {}
    assert "withdrew" in problems(dose(), replace(CONTEXT, treatment_withdrawn_on=on_the_day - dt.timedelta(days=1)))[
        "started_at"]
    assert problems(dose(), replace(CONTEXT, route_discontinued_on=on_the_day)) == {}
    assert "permanently discontinued" in problems(
        dose(), replace(CONTEXT, route_discontinued_on=on_the_day - dt.timedelta(days=1)))["started_at"]


def test_site_dates_are_those_of_the_site_zone() -> None:
    late = dt.datetime(2026, 11, 2, 22, 30, tzinfo=dt.UTC)  # 00:30 on 3 November in Athens
    withdrawn = replace(CONTEXT, treatment_withdrawn_on=dt.date(2026, 11, 2))
    assert "withdrew" in problems(dose(dose_number=None, started_at=late), withdrawn)["started_at"]


DAY1, DAY15 = dt.date(2026, 11, 1), dt.date(2026, 11, 15)


def discontinuation(day: int | None, *, recorded: bool = False, **values: object) -> dict[str, str]:
    entry = replace(DiscontinuationEntry(route="iv", discontinued_on=DAY1 + dt.timedelta(days=(day or 1) - 1),
                                         reason="adverse_event"), **values)  # type: ignore[arg-type]
    return discontinuation_problems(entry, study_day=day, first_day=DAY1, last_day=DAY15, today=DAY15, protocol=P,
                                    already_recorded=recorded)


@pytest.mark.parametrize(("day", "ok"), [(0, False), (1, True), (15, True), (16, False)])
def test_a_discontinuation_falls_in_treatment(day: int, ok: bool) -> None:
    assert (discontinuation(day) == {}) is ok


def test_discontinuation_reason_and_repeat() -> None:
    assert list(discontinuation(3, reason="other")) == ["reason_other"]
    assert discontinuation(3, reason="other", reason_other="pump failure") == {}
    assert list(discontinuation(3, recorded=True)) == ["route"]
    assert discontinuation_routes_clashing("iv") == {"iv", "both"}
    assert discontinuation_routes_clashing("both") == {"iv", "sc", "both"}
