"""Reporting clocks (safety.md "Deadlines (clocks)"), with explicit, frozen datetimes.

Europe/Athens (the default sponsor zone) is UTC+2 in winter (EET) and UTC+3 in summer (EEST);
in 2025 it springs forward on 30 March at 03:00 local (01:00 UTC) and falls back on 26 October
at 04:00 local (01:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.study.protocol import DEFAULT_PROTOCOL
from safety.clocks import (
    ClockKind,
    ClockState,
    Threshold,
    clock_days,
    clock_state,
    due_at,
    due_soon_at,
    thresholds_crossed,
)

ATHENS = ZoneInfo("Europe/Athens")
QUARTER = Decimal("0.25")


def athens(*args: int) -> datetime:
    return datetime(*args, tzinfo=ATHENS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- hour clocks: elapsed time in UTC ---------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "expected_utc", "expected_local"),
    [
        # Spring forward: 24 elapsed hours end at 13:00 local, not 12:00.
        (athens(2025, 3, 29, 12, 0), utc(2025, 3, 30, 10, 0), athens(2025, 3, 30, 13, 0)),
        # Fall back: 24 elapsed hours end at 11:00 local, not 12:00.
        (athens(2025, 10, 25, 12, 0), utc(2025, 10, 26, 9, 0), athens(2025, 10, 26, 11, 0)),
        # No change: same wall time.
        (athens(2025, 6, 1, 12, 0), utc(2025, 6, 2, 9, 0), athens(2025, 6, 2, 12, 0)),
    ],
)
@pytest.mark.parametrize("kind", [ClockKind.SAE_INITIAL, ClockKind.SAE_FOLLOWUP])
def test_hour_clock_is_elapsed_time_across_dst(
    kind: ClockKind, started: datetime, expected_utc: datetime, expected_local: datetime
) -> None:
    due = due_at(kind, started)
    assert due == expected_utc
    assert due.tzinfo is UTC
    assert due - started == timedelta(hours=24)
    assert due.astimezone(ATHENS).replace(tzinfo=None) == expected_local.replace(tzinfo=None)


def test_sae_followup_hours_come_from_the_protocol() -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sae_followup_report_hours": 48})
    started = utc(2025, 1, 1, 8, 0)
    assert due_at(ClockKind.SAE_FOLLOWUP, started, protocol=protocol) == utc(2025, 1, 3, 8, 0)
    assert due_at(ClockKind.SAE_INITIAL, started, protocol=protocol) == utc(2025, 1, 2, 8, 0)


# --- day clocks: calendar dates in the sponsor's zone -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "started", "expected"),
    [
        # 23:59 local on 1 June (20:59 UTC): day 0 is 1 June, due by end of 8 June.
        (ClockKind.SUSAR_FATAL, athens(2025, 6, 1, 23, 59), athens(2025, 6, 9, 0, 0)),
        # 00:01 local on 2 June (still 1 June in UTC!): day 0 is 2 June, due by end of 9 June.
        (ClockKind.SUSAR_FATAL, athens(2025, 6, 2, 0, 1), athens(2025, 6, 10, 0, 0)),
        # Exactly local midnight belongs to the new date.
        (ClockKind.SUSAR_FATAL, athens(2025, 6, 2, 0, 0), athens(2025, 6, 10, 0, 0)),
        # Across spring forward: due at 00:00 EEST = 21:00 UTC (22:00 UTC without the change).
        (ClockKind.SUSAR_FATAL, athens(2025, 3, 25, 10, 0), athens(2025, 4, 2, 0, 0)),
        # 15 days, across fall back: 00:00 EET = 22:00 UTC.
        (ClockKind.SUSAR_OTHER, athens(2025, 10, 20, 15, 0), athens(2025, 11, 5, 0, 0)),
        (ClockKind.SUSAR_OTHER, athens(2025, 6, 1, 23, 59), athens(2025, 6, 17, 0, 0)),
        # Follow-up: 8 more days after the 7-day deadline (end of 8 June -> end of 16 June).
        (ClockKind.SUSAR_FATAL_FOLLOWUP, athens(2025, 6, 1, 10, 0), athens(2025, 6, 17, 0, 0)),
        # Became fatal later: 7 days from when the sponsor learns it.
        (ClockKind.SUSAR_BECAME_FATAL, athens(2025, 7, 10, 9, 0), athens(2025, 7, 18, 0, 0)),
        (ClockKind.SUSAR_BECAME_FATAL, athens(2025, 7, 10, 23, 59), athens(2025, 7, 18, 0, 0)),
    ],
)
def test_day_clock_due_at_local_midnight(
    kind: ClockKind, started: datetime, expected: datetime
) -> None:
    due = due_at(kind, started)
    assert due == expected
    assert due.tzinfo is UTC


def test_day_clock_dst_shifts_the_utc_due_time() -> None:
    # Same local awareness time one week apart; the later deadline is after spring forward.
    before = due_at(ClockKind.SUSAR_FATAL, athens(2025, 3, 18, 10, 0))
    after = due_at(ClockKind.SUSAR_FATAL, athens(2025, 3, 25, 10, 0))
    assert before == utc(2025, 3, 25, 22, 0)
    assert after == utc(2025, 4, 1, 21, 0)


def test_day_clock_awareness_given_in_another_zone_uses_the_sponsor_zone() -> None:
    # 22:30 in London on 1 June is 00:30 on 2 June in Athens: day 0 is 2 June.
    started = datetime(2025, 6, 1, 22, 30, tzinfo=ZoneInfo("Europe/London"))
    assert due_at(ClockKind.SUSAR_FATAL, started) == athens(2025, 6, 10, 0, 0)


def test_sponsor_zone_is_configurable() -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sponsor_time_zone": "UTC"})
    started = athens(2025, 6, 2, 0, 1)  # 1 June 21:01 UTC
    assert due_at(ClockKind.SUSAR_FATAL, started, protocol=protocol) == utc(2025, 6, 9, 0, 0)


@pytest.mark.parametrize(
    ("started", "expected_utc"),
    [
        # Havana springs forward at midnight on 10 March 2024: that date starts at 01:00 CDT.
        (datetime(2024, 3, 2, 12, 0, tzinfo=ZoneInfo("America/Havana")), utc(2024, 3, 10, 5, 0)),
        # Havana falls back at 01:00 on 3 November 2024: midnight repeats; the first one counts.
        (datetime(2024, 10, 26, 12, 0, tzinfo=ZoneInfo("America/Havana")), utc(2024, 11, 3, 4, 0)),
    ],
)
def test_day_clock_where_midnight_is_skipped_or_repeated(
    started: datetime, expected_utc: datetime
) -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sponsor_time_zone": "America/Havana"})
    assert due_at(ClockKind.SUSAR_FATAL, started, protocol=protocol) == expected_utc


def test_unknown_sponsor_zone_is_refused() -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sponsor_time_zone": "Mars/Olympus"})
    with pytest.raises(ValueError, match="time zone"):
        due_at(ClockKind.SUSAR_FATAL, utc(2025, 6, 1), protocol=protocol)


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        (ClockKind.SAE_INITIAL, None),
        (ClockKind.SAE_FOLLOWUP, None),
        (ClockKind.SUSAR_FATAL, 7),
        (ClockKind.SUSAR_FATAL_FOLLOWUP, 15),
        (ClockKind.SUSAR_OTHER, 15),
        (ClockKind.SUSAR_BECAME_FATAL, 7),
    ],
)
def test_clock_days(kind: ClockKind, days: int | None) -> None:
    assert clock_days(kind) == days


def test_kind_accepts_its_string_value() -> None:
    assert due_at("susar_other", athens(2025, 6, 1, 12)) == athens(2025, 6, 17)  # type: ignore[arg-type]


# --- states --------------------------------------------------------------------------------

START = utc(2025, 6, 1, 0, 0)
DUE = utc(2025, 6, 2, 0, 0)  # 24 h; due soon from 18:00 (6 h left = 25 %)
SOON = utc(2025, 6, 1, 18, 0)
US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "met_at", "expected"),
    [
        (START - timedelta(hours=1), None, ClockState.RUNNING),
        (START, None, ClockState.RUNNING),
        (SOON - US, None, ClockState.RUNNING),
        (SOON, None, ClockState.DUE_SOON),  # exactly 25 % left: due soon ("<=")
        (DUE - US, None, ClockState.DUE_SOON),
        (DUE, None, ClockState.OVERDUE),  # at due_at: overdue
        (DUE + timedelta(days=3), None, ClockState.OVERDUE),
        (SOON, START, ClockState.MET),
        (DUE + timedelta(days=3), DUE - US, ClockState.MET),  # strictly before due_at
        (DUE + timedelta(days=3), DUE, ClockState.MET_LATE),  # exactly at due_at: late
        (DUE + timedelta(days=3), DUE + US, ClockState.MET_LATE),
        # met_at wins over now, even if now is earlier (e.g. a report time in the future).
        (START, DUE + timedelta(hours=1), ClockState.MET_LATE),
    ],
)
def test_clock_state_boundaries(
    now: datetime, met_at: datetime | None, expected: ClockState
) -> None:
    state = clock_state(
        started_at=START, due_at=DUE, now=now, met_at=met_at, due_soon_fraction=QUARTER
    )
    assert state is expected


def test_clock_state_on_a_day_clock_near_its_local_midnight() -> None:
    started = athens(2025, 6, 1, 23, 59)
    due = due_at(ClockKind.SUSAR_FATAL, started)
    kwargs = {"started_at": started, "due_at": due, "due_soon_fraction": QUARTER}
    assert clock_state(now=athens(2025, 6, 8, 23, 59, 59), met_at=None, **kwargs) is (
        ClockState.DUE_SOON
    )
    assert clock_state(now=athens(2025, 6, 9), met_at=None, **kwargs) is ClockState.OVERDUE
    assert clock_state(now=athens(2025, 6, 9), met_at=athens(2025, 6, 8, 23, 59), **kwargs) is (
        ClockState.MET
    )
    assert clock_state(now=athens(2025, 6, 9), met_at=athens(2025, 6, 9), **kwargs) is (
        ClockState.MET_LATE
    )


def test_clock_state_uses_elapsed_time_when_all_times_share_a_zone() -> None:
    # Python compares and subtracts datetimes sharing one ZoneInfo by wall time; the clock must
    # not. 24 h from 12:00 EET on 29 March is 13:00 EEST on 30 March (25 wall hours); 25 % left
    # is 6 h, so 06:50 EEST (6 h 10 min left) is still running.
    started = athens(2025, 3, 29, 12, 0)
    due = due_at(ClockKind.SAE_INITIAL, started).astimezone(ATHENS)
    state = clock_state(
        started_at=started,
        due_at=due,
        now=athens(2025, 3, 30, 6, 50),
        met_at=None,
        due_soon_fraction=QUARTER,
    )
    assert state is ClockState.RUNNING


@pytest.mark.parametrize(
    ("fraction", "now", "expected"),
    [
        (Decimal(0), DUE - US, ClockState.RUNNING),  # no due-soon period at all
        (Decimal("0.5"), utc(2025, 6, 1, 12, 0), ClockState.DUE_SOON),
        (Decimal("0.5"), utc(2025, 6, 1, 12, 0) - US, ClockState.RUNNING),
        (Decimal(1), START, ClockState.DUE_SOON),
        (Decimal("0.1"), utc(2025, 6, 1, 21, 36), ClockState.DUE_SOON),  # 2 h 24 min left
        (Decimal("0.1"), utc(2025, 6, 1, 21, 36) - US, ClockState.RUNNING),
    ],
)
def test_due_soon_fraction_boundary(fraction: Decimal, now: datetime, expected: ClockState) -> None:
    state = clock_state(
        started_at=START, due_at=DUE, now=now, met_at=None, due_soon_fraction=fraction
    )
    assert state is expected


def test_due_soon_at_is_the_first_due_soon_instant() -> None:
    assert due_soon_at(started_at=START, due_at=DUE, due_soon_fraction=QUARTER) == SOON
    # A duration of 24 h + 1 us is not divisible by 3: the boundary instant is floored.
    due = DUE + US
    soon = due_soon_at(started_at=START, due_at=due, due_soon_fraction=Decimal(1) / 3)
    args = {"started_at": START, "due_at": due, "met_at": None, "due_soon_fraction": Decimal(1) / 3}
    assert clock_state(now=soon, **args) is ClockState.DUE_SOON
    assert clock_state(now=soon - US, **args) is ClockState.RUNNING


# --- thresholds for the idempotent notifier ---------------------------------------------------


@pytest.mark.parametrize(
    ("now", "met_at", "expected"),
    [
        (START, None, ()),
        (SOON - US, None, ()),
        (SOON, None, (Threshold.DUE_SOON,)),
        (DUE - US, None, (Threshold.DUE_SOON,)),
        (DUE, None, (Threshold.DUE_SOON, Threshold.OVERDUE)),
        (DUE + timedelta(days=9), None, (Threshold.DUE_SOON, Threshold.OVERDUE)),
        # Met before due soon: nothing was ever crossed, whatever now is.
        (DUE + timedelta(days=9), SOON - US, ()),
        # Met while due soon: only due_soon.
        (DUE + timedelta(days=9), SOON, (Threshold.DUE_SOON,)),
        # Met exactly at due_at is late: overdue was crossed.
        (DUE + timedelta(days=9), DUE, (Threshold.DUE_SOON, Threshold.OVERDUE)),
        # A report recorded with a later time than now: only what now reached.
        (SOON, DUE + timedelta(hours=1), (Threshold.DUE_SOON,)),
    ],
)
def test_thresholds_crossed(
    now: datetime, met_at: datetime | None, expected: tuple[Threshold, ...]
) -> None:
    crossed = thresholds_crossed(
        started_at=START, due_at=DUE, now=now, met_at=met_at, due_soon_fraction=QUARTER
    )
    assert crossed == expected


def test_no_due_soon_threshold_without_a_due_soon_period() -> None:
    crossed = thresholds_crossed(
        started_at=START, due_at=DUE, now=DUE, met_at=None, due_soon_fraction=Decimal(0)
    )
    assert crossed == (Threshold.OVERDUE,)


# --- refusals --------------------------------------------------------------------------------


def test_naive_started_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(ClockKind.SAE_INITIAL, datetime(2025, 6, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(ClockKind.SUSAR_FATAL, datetime(2025, 6, 1, 12, 0))


@pytest.mark.parametrize("field", ["started_at", "due_at", "now", "met_at"])
def test_naive_datetimes_refused_by_clock_state(field: str) -> None:
    kwargs: dict[str, datetime | None] = {
        "started_at": START,
        "due_at": DUE,
        "now": SOON,
        "met_at": SOON,
    }
    value = kwargs[field]
    assert value is not None
    kwargs[field] = value.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_state(due_soon_fraction=QUARTER, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        thresholds_crossed(due_soon_fraction=QUARTER, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fraction", [Decimal("-0.01"), Decimal("1.01")])
def test_fraction_outside_zero_one_is_refused(fraction: Decimal) -> None:
    with pytest.raises(ValueError, match="due_soon_fraction"):
        clock_state(started_at=START, due_at=DUE, now=SOON, met_at=None, due_soon_fraction=fraction)


def test_due_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before started_at"):
        clock_state(started_at=DUE, due_at=START, now=SOON, met_at=None, due_soon_fraction=QUARTER)


# --- properties ------------------------------------------------------------------------------

DAY_KINDS = [k for k in ClockKind if clock_days(k) is not None]
HOUR_KINDS = [k for k in ClockKind if clock_days(k) is None]
ZONES = ["Europe/Athens", "America/New_York", "Australia/Lord_Howe", "America/Havana", "UTC"]
aware_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(kind=st.sampled_from(DAY_KINDS), started=aware_instants, tz=st.sampled_from(ZONES))
def test_day_clock_due_is_a_local_midnight_after_n_days(
    kind: ClockKind, started: datetime, tz: str
) -> None:
    protocol = DEFAULT_PROTOCOL.with_overrides({"sponsor_time_zone": tz})
    days = clock_days(kind, protocol=protocol)
    assert days is not None
    due = due_at(kind, started, protocol=protocol)
    zone = ZoneInfo(tz)
    local = due.astimezone(zone)
    # safety.md: due by the end of day N, i.e. at the first instant of local date day 0 + N + 1
    # (local midnight, or the transition instant where clocks skip midnight, e.g. Havana) ...
    assert local.date() == started.astimezone(zone).date() + timedelta(days=days + 1)
    assert (due - US).astimezone(zone).date() < local.date()
    assert local.time() == time(0) or tz == "America/Havana"
    # ... which is more than N days (less a DST hour) and at most N + 1 days (plus one) later.
    assert due > started + timedelta(days=days) - timedelta(hours=1)
    assert due <= started + timedelta(days=days + 1) + timedelta(hours=1)


@settings(deadline=None)
@given(kind=st.sampled_from(HOUR_KINDS), started=aware_instants)
def test_hour_clock_is_exactly_24_elapsed_hours(kind: ClockKind, started: datetime) -> None:
    assert due_at(kind, started.astimezone(ATHENS)) - started == timedelta(hours=24)


@settings(deadline=None)
@given(
    started=aware_instants,
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    offset=st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=22)),
    fraction=st.decimals(min_value=0, max_value=1, places=3),
)
def test_thresholds_agree_with_state(
    started: datetime, duration: timedelta, offset: timedelta, fraction: Decimal
) -> None:
    due = started + duration
    now = started + offset
    state = clock_state(
        started_at=started, due_at=due, now=now, met_at=None, due_soon_fraction=fraction
    )
    crossed = thresholds_crossed(
        started_at=started, due_at=due, now=now, met_at=None, due_soon_fraction=fraction
    )
    if state is ClockState.OVERDUE:
        assert Threshold.OVERDUE in crossed
    else:
        assert Threshold.OVERDUE not in crossed
    if state is ClockState.DUE_SOON:
        assert crossed == (Threshold.DUE_SOON,)
    if state is ClockState.RUNNING:
        assert crossed == ()
