"""The outcome forms' rules (``ecrf.outcomes.rules``) on plain values: follow-up ends on day 90,
vital status is recorded on days 28 and 90 within their windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ecrf.outcomes.rules import (
    GivenDose,
    VisitWindow,
    VitalEntry,
    death_problems,
    end_of_study_problems,
    infection_problems,
    vital_status_problems,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL as P

RANDOMIZED = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)
ATHENS = ZoneInfo("Europe/Athens")


def death(died_at: dt.datetime | None, given_after: list[GivenDose] | None = None) -> dict[str, str]:
    return death_problems(died_at=died_at, randomized_at=RANDOMIZED, now=NOW, zone=ATHENS, given_after=given_after or [])


def test_death_time_edges() -> None:
    assert death(None) == {} and death(RANDOMIZED) == {} and death(NOW) == {}
    assert "before randomization" in death(RANDOMIZED - TICK)["died_at"]
    assert "future" in death(NOW + TICK)["died_at"]


def test_a_death_contradicted_by_doses_given_after_it_names_the_first_five() -> None:
    died = RANDOMIZED + dt.timedelta(days=2)
    later = [GivenDose("IV study drug", n, died + dt.timedelta(hours=8 * n)) for n in range(1, 8)]
    message = death(died, later)["died_at"]
    assert message.startswith("7 administration(s) are recorded as given after this time of death, the first at "
                              "2026-09-03 19:00 EEST (IV study drug dose 1, ")  # 16:00 UTC
    assert "IV study drug dose 5 and 2 more)" in message and "dose 6" not in message


WINDOW = VisitWindow(target=dt.date(2026, 9, 28), before_days=2, after_days=7)


def vital(day: int = 28, *, window: VisitWindow | None = WINDOW, recorded: bool = False, **values: object) -> dict[str, str]:
    entry = VitalEntry(day=day, **values)  # type: ignore[arg-type]
    return vital_status_problems(entry, protocol=P, window=window, today=NOW.date(), death_recorded=recorded)


@pytest.mark.parametrize(("assessed", "ok"), [
    (dt.date(2026, 9, 25), False), (dt.date(2026, 9, 26), True), (dt.date(2026, 10, 5), True),
    (dt.date(2026, 10, 6), False),
])
def test_vital_status_is_assessed_within_the_window(assessed: dt.date, ok: bool) -> None:
    assert (vital(vital_status="alive", assessed_on=assessed) == {}) is ok


def test_vital_status_rules() -> None:
    assert vital(27, window=None) == {"day": "Vital status is recorded on day 28 or 90."}
    assert list(vital(vital_status="unknown")) == ["last_contact_date"]
    assert vital(vital_status="unknown", last_contact_date=dt.date(2026, 9, 20)) == {}
    assert list(vital(vital_status="alive", last_contact_date=dt.date(2026, 9, 20))) == ["last_contact_date"]
    assert list(vital(vital_status="unknown", assessed_on=dt.date(2026, 9, 28),
                      last_contact_date=dt.date(2026, 9, 29))) == ["last_contact_date"]
    assert list(vital(vital_status="dead")) == ["vital_status"]
    assert vital(vital_status="dead", recorded=True) == {}


@pytest.mark.parametrize(("day", "ok"), [(0, False), (1, True), (90, True), (91, False)])
def test_a_new_infection_starts_in_follow_up(day: int, ok: bool) -> None:
    problems = infection_problems(onset_date=dt.date(2026, 9, 1), onset_day=day, today=NOW.date(), protocol=P)
    assert (problems == {}) is ok


def test_end_of_study_rules() -> None:
    def eos(disposition: str, day: int, *, recorded: bool = False, on: dt.date = dt.date(2026, 11, 29)) -> dict[str, str]:
        return end_of_study_problems(disposition=disposition, disposition_date=on, disposition_day=day, today=NOW.date(),
                                     protocol=P, death_recorded=recorded)

    assert list(eos("lost_to_follow_up", 0)) == ["disposition_date"]
    assert eos("lost_to_follow_up", 1) == {}
    assert list(eos("lost_to_follow_up", 30, on=NOW.date() + dt.timedelta(days=1))) == ["disposition_date"]
    assert list(eos("died", 10)) == ["disposition"]
    assert eos("died", 10, recorded=True) == {}
    assert eos("completed", 89) == {"disposition_date": "A participant completes the study on day 90 or later."}
    assert eos("completed", 90) == {}
