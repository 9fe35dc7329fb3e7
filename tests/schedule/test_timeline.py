"""Study days and treatment times (ARCHITECTURE.md "Time"; trial.md "Treatment", "Assessments").

Europe/Athens is UTC+2 in winter and UTC+3 in summer; in 2025 it springs forward on 30 March
(a 23-hour day) and falls back on 26 October (a 25-hour day), both at 01:00 UTC.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.schedule.timeline import (
    date_of_study_day,
    day_bounds,
    doses_by_study_day,
    iv_due_times,
    sc_due_times,
    study_day,
    treatment_end,
    within_sepsis_window,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL

SITE_TZ = "Europe/Athens"
ATHENS = ZoneInfo(SITE_TZ)
US = timedelta(microseconds=1)


def athens(*args: int) -> datetime:
    return datetime(*args, tzinfo=ATHENS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- study days ------------------------------------------------------------------------------

RANDOMIZED_LATE = athens(2025, 5, 5, 23, 0)  # 20:00 UTC
FIRST_UTC = RANDOMIZED_LATE.astimezone(UTC)  # add hours in UTC (ZoneInfo arithmetic is wall time)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (athens(2025, 5, 5, 0, 0), 1),  # earlier on the randomization date is still day 1
        (RANDOMIZED_LATE, 1),
        (athens(2025, 5, 5, 23, 59, 59), 1),
        (athens(2025, 5, 6, 0, 0), 2),  # 21:00 UTC on 5 May: the site's date decides
        (utc(2025, 5, 5, 21, 0), 2),
        (athens(2025, 5, 19, 12, 0), 15),
        (athens(2025, 6, 1, 12, 0), 28),
        (athens(2025, 5, 4, 23, 59), 0),  # the day before randomization is day 0
        (athens(2025, 5, 3, 12, 0), -1),
    ],
)
def test_study_day(moment: datetime, day: int) -> None:
    assert study_day(moment, randomized_at=RANDOMIZED_LATE, tz=SITE_TZ) == day


def test_study_day_depends_on_the_site_zone() -> None:
    # 23:00 in Athens is 20:00 UTC and 16:00 in New York: same calendar date in all three...
    moment = athens(2025, 5, 6, 1, 0)  # ...but 01:00 the next day in Athens is 22:00 UTC on 5 May.
    assert study_day(moment, randomized_at=RANDOMIZED_LATE, tz=SITE_TZ) == 2
    assert study_day(moment, randomized_at=RANDOMIZED_LATE, tz="UTC") == 1
    assert study_day(moment, randomized_at=RANDOMIZED_LATE, tz="America/New_York") == 1


@pytest.mark.parametrize(
    ("day", "expected"),
    [(1, date(2025, 5, 5)), (2, date(2025, 5, 6)), (28, date(2025, 6, 1)), (0, date(2025, 5, 4))],
)
def test_date_of_study_day(day: int, expected: date) -> None:
    assert date_of_study_day(day, randomized_at=RANDOMIZED_LATE, tz=SITE_TZ) == expected


@pytest.mark.parametrize(
    ("randomized_at", "day", "start", "end", "hours"),
    [
        # Spring forward on 30 March 2025: day 2 runs 00:00 EET -> 00:00 EEST, 23 hours.
        (athens(2025, 3, 29, 10), 2, utc(2025, 3, 29, 22), utc(2025, 3, 30, 21), 23),
        (athens(2025, 3, 29, 10), 1, utc(2025, 3, 28, 22), utc(2025, 3, 29, 22), 24),
        (athens(2025, 3, 29, 10), 3, utc(2025, 3, 30, 21), utc(2025, 3, 31, 21), 24),
        # Fall back on 26 October 2025: day 2 runs 00:00 EEST -> 00:00 EET, 25 hours.
        (athens(2025, 10, 25, 10), 2, utc(2025, 10, 25, 21), utc(2025, 10, 26, 22), 25),
        (athens(2025, 10, 25, 10), 1, utc(2025, 10, 24, 21), utc(2025, 10, 25, 21), 24),
        (athens(2025, 10, 25, 10), 3, utc(2025, 10, 26, 22), utc(2025, 10, 27, 22), 24),
    ],
)
def test_day_bounds_across_dst(
    randomized_at: datetime, day: int, start: datetime, end: datetime, hours: int
) -> None:
    bounds = day_bounds(day, randomized_at=randomized_at, tz=SITE_TZ)
    assert bounds == (start, end)
    assert bounds[0].tzinfo is UTC and bounds[1].tzinfo is UTC
    assert bounds[1] - bounds[0] == timedelta(hours=hours)
    # Half-open: the start is in the day, the end is the next day's start.
    assert study_day(start, randomized_at=randomized_at, tz=SITE_TZ) == day
    assert study_day(end - US, randomized_at=randomized_at, tz=SITE_TZ) == day
    assert study_day(end, randomized_at=randomized_at, tz=SITE_TZ) == day + 1


# --- treatment ---------------------------------------------------------------------------------


def test_45_iv_doses_every_8_hours() -> None:
    first = FIRST_UTC
    times = iv_due_times(RANDOMIZED_LATE)
    assert len(times) == 45
    assert times[0] == first and times[0].tzinfo is UTC
    assert times[1] == athens(2025, 5, 6, 7, 0)
    assert times[-1] == first + timedelta(hours=8 * 44)
    assert all(b - a == timedelta(hours=8) for a, b in itertools.pairwise(times))


def test_8_sc_doses_every_48_hours() -> None:
    first = FIRST_UTC
    times = sc_due_times(RANDOMIZED_LATE)
    assert len(times) == 8
    assert times == [first + timedelta(hours=48 * k) for k in range(8)]


def test_treatment_end_is_15_times_24_hours() -> None:
    first = FIRST_UTC
    end = treatment_end(first)
    assert end == utc(2025, 5, 20, 20, 0) == first + timedelta(hours=360)
    assert iv_due_times(first)[-1] < end
    assert sc_due_times(first)[-1] < end


def test_treatment_end_is_elapsed_across_dst() -> None:
    first = athens(2025, 3, 25, 12, 0)  # EET
    # 360 elapsed hours later is 13:00 EEST on the local calendar: the wall time moved.
    assert treatment_end(first) == athens(2025, 4, 9, 13, 0)


def test_doses_after_treatment_end_are_not_scheduled() -> None:
    # A configured count that does not fit in 15 x 24 h is capped by the treatment's end.
    protocol = DEFAULT_PROTOCOL.with_overrides({"iv_interval_hours": 12})
    times = iv_due_times(RANDOMIZED_LATE, protocol=protocol)
    assert len(times) == 30
    assert times[-1] < treatment_end(RANDOMIZED_LATE, protocol=protocol)


def test_iv_doses_from_a_23_00_randomization_cross_midnight() -> None:
    grouped = doses_by_study_day(
        iv_due_times(RANDOMIZED_LATE), randomized_at=RANDOMIZED_LATE, tz=SITE_TZ
    )
    # Dose 1 at 23:00 on day 1; doses 2-4 at 07:00, 15:00, 23:00 on day 2; ...
    assert grouped[1] == [1]
    assert grouped[2] == [2, 3, 4]
    assert grouped[3] == [5, 6, 7]
    assert grouped[15] == [41, 42, 43]
    # ... and the last two doses fall on day 16 (treatment is 15 x 24 h, not 15 dates).
    assert grouped[16] == [44, 45]
    assert list(grouped) == list(range(1, 17))
    assert sum(len(v) for v in grouped.values()) == 45


def test_sc_doses_fall_on_odd_days() -> None:
    grouped = doses_by_study_day(
        sc_due_times(RANDOMIZED_LATE), randomized_at=RANDOMIZED_LATE, tz=SITE_TZ
    )
    assert grouped == {1 + 2 * k: [k + 1] for k in range(8)}


@pytest.mark.parametrize(
    ("first", "expected_prefix"),
    [
        # Spring: 23:30 EET on 29 March; dose 4 (24 h later) is 00:30 EEST on 31 March, so the
        # 23-hour day 2 holds only two doses.
        (athens(2025, 3, 29, 23, 30), {1: [1], 2: [2, 3], 3: [4, 5, 6]}),
        # Autumn: 00:30 EEST on 26 October; dose 4 (24 h later) is 23:30 EET the same date, so
        # the 25-hour day 1 holds four doses.
        (athens(2025, 10, 26, 0, 30), {1: [1, 2, 3, 4], 2: [5, 6, 7]}),
    ],
)
def test_dose_grouping_across_dst(first: datetime, expected_prefix: dict[int, list[int]]) -> None:
    grouped = doses_by_study_day(iv_due_times(first), randomized_at=first, tz=SITE_TZ)
    assert {day: grouped[day] for day in expected_prefix} == expected_prefix


def test_doses_by_study_day_of_no_doses() -> None:
    assert doses_by_study_day([], randomized_at=RANDOMIZED_LATE, tz=SITE_TZ) == {}


# --- Sepsis-3 window -------------------------------------------------------------------------

SEPSIS3 = athens(2025, 3, 28, 12, 0)  # EET; 72 h later crosses spring forward
# Arithmetic on a datetime with a ZoneInfo is wall-clock arithmetic in Python; add in UTC.
SEPSIS3_UTC = SEPSIS3.astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (SEPSIS3, True),
        (SEPSIS3_UTC + timedelta(hours=71, minutes=59), True),
        (SEPSIS3_UTC + timedelta(hours=72), True),  # exactly 72 h: inclusive
        (athens(2025, 3, 31, 13, 0), True),  # the same instant, shown in EEST
        (SEPSIS3_UTC + timedelta(hours=72) + US, False),
        (athens(2025, 3, 31, 13, 0, 0, 1), False),  # the same, in EEST
        (athens(2025, 3, 31, 12, 30), True),  # 71.5 h elapsed (wall clock says 72.5 h)
        (SEPSIS3_UTC - US, False),  # before onset: not yet eligible
    ],
)
def test_within_sepsis_window(moment: datetime, inside: bool) -> None:
    assert within_sepsis_window(SEPSIS3, moment) is inside


def test_sepsis_window_is_configurable() -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sepsis_window_hours": 48})
    assert within_sepsis_window(SEPSIS3, SEPSIS3_UTC + timedelta(hours=48), protocol=protocol)
    assert not within_sepsis_window(SEPSIS3, SEPSIS3_UTC + timedelta(hours=49), protocol=protocol)


# --- refusals --------------------------------------------------------------------------------

NAIVE = datetime(2025, 5, 5, 23, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: study_day(NAIVE, randomized_at=RANDOMIZED_LATE, tz=SITE_TZ),
        lambda: study_day(RANDOMIZED_LATE, randomized_at=NAIVE, tz=SITE_TZ),
        lambda: date_of_study_day(1, randomized_at=NAIVE, tz=SITE_TZ),
        lambda: day_bounds(1, randomized_at=NAIVE, tz=SITE_TZ),
        lambda: iv_due_times(NAIVE),
        lambda: sc_due_times(NAIVE),
        lambda: treatment_end(NAIVE),
        lambda: doses_by_study_day([NAIVE], randomized_at=RANDOMIZED_LATE, tz=SITE_TZ),
        lambda: within_sepsis_window(NAIVE, RANDOMIZED_LATE),
        lambda: within_sepsis_window(RANDOMIZED_LATE, NAIVE),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()  # type: ignore[operator]


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        study_day(RANDOMIZED_LATE, randomized_at=RANDOMIZED_LATE, tz="Atlantis/Capital")


# --- properties ------------------------------------------------------------------------------

ZONES = ["Europe/Athens", "America/New_York", "Australia/Lord_Howe", "America/Havana", "UTC"]
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(randomized=instants, moment=instants, tz=st.sampled_from(ZONES))
def test_moment_lies_within_the_bounds_of_its_study_day(
    randomized: datetime, moment: datetime, tz: str
) -> None:
    day = study_day(moment, randomized_at=randomized, tz=tz)
    start, end = day_bounds(day, randomized_at=randomized, tz=tz)
    assert start <= moment < end
    # A calendar day lasts 24 h, or 23/25 h on a DST change (Lord Howe shifts by 30 minutes).
    assert timedelta(hours=23) <= end - start <= timedelta(hours=25)
    assert date_of_study_day(day, randomized_at=randomized, tz=tz) == (
        moment.astimezone(ZoneInfo(tz)).date()
    )


@settings(deadline=None)
@given(randomized=instants, tz=st.sampled_from(ZONES))
def test_randomization_is_on_day_1(randomized: datetime, tz: str) -> None:
    assert study_day(randomized, randomized_at=randomized, tz=tz) == 1


@settings(deadline=None)
@given(first=instants, tz=st.sampled_from(ZONES))
def test_doses_are_elapsed_time_and_within_treatment(first: datetime, tz: str) -> None:
    first_local = first.astimezone(ZoneInfo(tz))
    end = treatment_end(first_local)
    for times, hours, count in (
        (iv_due_times(first_local), 8, 45),
        (sc_due_times(first_local), 48, 8),
    ):
        assert times == [first + timedelta(hours=hours * k) for k in range(count)]
        assert all(first <= t < end for t in times)
    grouped = doses_by_study_day(iv_due_times(first), randomized_at=first, tz=tz)
    assert [n for numbers in grouped.values() for n in numbers] == list(range(1, 46))
    assert min(grouped) == 1 and max(grouped) <= 17
