"""Safety-reporting deadlines (clocks): pure arithmetic, no Django.

Rules enforced here (reference/safety.md "Deadlines (clocks)"; ARCHITECTURE.md "Time"):

- Hour clocks (SAE initial and follow-up reports, 24 h) are *elapsed* time computed in UTC:
  ``due_at = started_at + N hours``. Across a daylight-saving change the local wall time of the
  deadline therefore moves by an hour; the elapsed time does not.
- Day clocks (SUSAR 7 and 15 days) count *calendar dates in the sponsor's time zone*
  (``protocol.sponsor_time_zone``): day 0 is the local date on which the clock started, and the
  report is due by the end of day N in that zone. "End of day N" is represented by the first
  instant of day N + 1, i.e. local midnight at the start of date(day 0) + N + 1, converted to
  UTC. A report is on time if it is submitted **strictly before** ``due_at``; submitted at
  ``due_at`` or later it is late (and stays marked late: a late report is still accepted).
  Daylight-saving changes shift the UTC due time.

All datetimes must be timezone-aware; naive datetimes raise ``ValueError``. Returned datetimes
are in UTC.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from ecrf.core.timeutils import local_midnight_utc, require_aware, zone
from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol

_ONE_MICROSECOND = timedelta(microseconds=1)


class ClockKind(StrEnum):
    """The reporting clocks of safety.md's table, each with its start and its deadline."""

    # Starts when the investigator becomes aware; 24 elapsed hours (CTR Art. 41).
    SAE_INITIAL = "sae_initial"
    # Starts at new significant information or the sponsor's request; hours set by the protocol.
    SAE_FOLLOWUP = "sae_followup"
    # Starts when the sponsor first has a potential SUSAR (fatal or life-threatening);
    # 7 calendar days (CTR Art. 42; ICH E2A).
    SUSAR_FATAL = "susar_fatal"
    # Same start as SUSAR_FATAL: relevant follow-up within 8 more calendar days after the
    # 7-day report deadline, i.e. due by the end of day 7 + 8 = 15 from the same day 0.
    SUSAR_FATAL_FOLLOWUP = "susar_fatal_followup"
    # Starts when the sponsor first has a potential SUSAR (other); 15 calendar days.
    SUSAR_OTHER = "susar_other"
    # Starts when the sponsor learns that a SUSAR became fatal or life-threatening;
    # 7 calendar days for that report (CTR Art. 42(2)).
    SUSAR_BECAME_FATAL = "susar_became_fatal"


class ClockState(StrEnum):
    RUNNING = "running"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MET_LATE = "met_late"


class Threshold(StrEnum):
    """Notification thresholds: a notifier creates at most one notification per clock and
    threshold (idempotent by a unique (clock, threshold) key)."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"




def _hour_clock_hours(kind: ClockKind, protocol: Protocol) -> int | None:
    if kind is ClockKind.SAE_INITIAL:
        return protocol.sae_initial_report_hours
    if kind is ClockKind.SAE_FOLLOWUP:
        return protocol.sae_followup_report_hours
    return None


def clock_days(kind: ClockKind, *, protocol: Protocol = DEFAULT_PROTOCOL) -> int | None:
    """The number of calendar days N of a day clock (due by the end of day N), or ``None`` for
    an hour clock."""
    if kind in (ClockKind.SUSAR_FATAL, ClockKind.SUSAR_BECAME_FATAL):
        return protocol.susar_fatal_days
    if kind is ClockKind.SUSAR_FATAL_FOLLOWUP:
        # safety.md: "7 calendar days; relevant follow-up within 8 more days", counted from the
        # same day 0 as the initial report's clock.
        return protocol.susar_fatal_days + protocol.susar_fatal_followup_days
    if kind is ClockKind.SUSAR_OTHER:
        return protocol.susar_other_days
    return None


def due_at(
    kind: ClockKind, started_at: datetime, *, protocol: Protocol = DEFAULT_PROTOCOL
) -> datetime:
    """When a clock of ``kind`` that started at ``started_at`` falls due (UTC, aware).

    A report is on time if submitted strictly before the returned instant."""
    started_at = require_aware("started_at", started_at)
    kind = ClockKind(kind)
    hours = _hour_clock_hours(kind, protocol)
    if hours is not None:
        # safety.md: hour clocks are elapsed time, computed in UTC.
        return started_at + timedelta(hours=hours)
    days = clock_days(kind, protocol=protocol)
    assert days is not None  # every kind is either an hour clock or a day clock
    # safety.md: day clocks count calendar dates in the sponsor's zone; day 0 is the date of
    # awareness there, due by the end of day N = local midnight starting day N + 1.
    tz = zone(protocol.sponsor_time_zone)
    day0 = started_at.astimezone(tz).date()
    return local_midnight_utc(day0 + timedelta(days=days + 1), tz)


def _micros(delta: timedelta) -> int:
    return delta // _ONE_MICROSECOND


def _check_clock(
    started_at: datetime, due: datetime, fraction: Decimal
) -> tuple[datetime, datetime]:
    started_at = require_aware("started_at", started_at)
    due = require_aware("due_at", due)
    if due < started_at:
        raise ValueError(f"due_at {due.isoformat()} is before started_at {started_at.isoformat()}.")
    if not Decimal(0) <= fraction <= Decimal(1):
        raise ValueError(f"due_soon_fraction must be between 0 and 1, got {fraction}.")
    return started_at, due


def due_soon_at(*, started_at: datetime, due_at: datetime, due_soon_fraction: Decimal) -> datetime:
    """The first instant at which an open clock is due soon: time left <= fraction x duration.

    Useful to schedule the due-soon notification. Exact (integer microseconds), so it agrees
    with ``clock_state`` at the boundary."""
    started_at, due_at = _check_clock(started_at, due_at, due_soon_fraction)
    total = _micros(due_at - started_at)
    # time_left <= fraction * total  <=>  time_left <= floor(fraction * total) for integer time.
    allowance = math.floor(due_soon_fraction * total)
    return due_at - timedelta(microseconds=allowance)


def clock_state(
    *,
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    met_at: datetime | None,
    due_soon_fraction: Decimal,
) -> ClockState:
    """The state of a clock at ``now``.

    - met: a report was submitted strictly before ``due_at``;
    - met_late: submitted at or after ``due_at`` (safety.md: a late report is accepted and stays
      marked late);
    - otherwise overdue if ``now >= due_at``;
    - due_soon if the time left is <= ``due_soon_fraction`` x (due_at - started_at);
    - running otherwise.

    ``met_at`` wins over ``now``: a met clock is met whatever ``now`` is."""
    started_at, due_at = _check_clock(started_at, due_at, due_soon_fraction)
    now = require_aware("now", now)
    if met_at is not None:
        met_at = require_aware("met_at", met_at)
        return ClockState.MET if met_at < due_at else ClockState.MET_LATE
    if now >= due_at:
        return ClockState.OVERDUE
    left = _micros(due_at - now)
    total = _micros(due_at - started_at)
    if Decimal(left) <= due_soon_fraction * total:
        return ClockState.DUE_SOON
    return ClockState.RUNNING


def thresholds_crossed(
    *,
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    met_at: datetime | None,
    due_soon_fraction: Decimal,
) -> tuple[Threshold, ...]:
    """The notification thresholds the clock has crossed by ``now`` while it was open.

    A threshold counts if its instant was reached at or before both ``now`` and ``met_at``
    (when a report exists), i.e. there was a moment at which ``clock_state`` gave that state:
    a clock met on time before it became due soon crossed nothing; a clock met exactly at
    ``due_at`` (met_late) did cross ``overdue``. The result only grows as ``now`` grows, so an
    idempotent notifier can create one notification per (clock, threshold) it returns. A
    notifier that must not alarm about closed clocks skips clocks with ``met_at`` set.

    ``due_soon`` is never reported for a clock with no due-soon period (fraction 0 or a
    zero-length clock): such a clock goes straight from running to overdue."""
    soon = due_soon_at(started_at=started_at, due_at=due_at, due_soon_fraction=due_soon_fraction)
    due_at = require_aware("due_at", due_at)
    reached = require_aware("now", now)
    if met_at is not None:
        reached = min(reached, require_aware("met_at", met_at))
    crossed: list[Threshold] = []
    if soon < due_at and reached >= soon:
        crossed.append(Threshold.DUE_SOON)
    if reached >= due_at:
        crossed.append(Threshold.OVERDUE)
    return tuple(crossed)


__all__ = [
    "ClockKind",
    "ClockState",
    "Threshold",
    "clock_days",
    "clock_state",
    "due_at",
    "due_soon_at",
    "local_midnight_utc",
    "require_aware",
    "thresholds_crossed",
    "zone",
]


CLOCK_LABELS = {
    ClockKind.SAE_INITIAL: "SAE initial report (24 h)",
    ClockKind.SAE_FOLLOWUP: "SAE follow-up report",
    ClockKind.SUSAR_FATAL: "Potential SUSAR 7-day report",
    ClockKind.SUSAR_FATAL_FOLLOWUP: "Potential SUSAR follow-up (8 more days)",
    ClockKind.SUSAR_OTHER: "Potential SUSAR 15-day report",
    ClockKind.SUSAR_BECAME_FATAL: "Potential SUSAR became fatal: 7-day report",
}
SUSAR_KINDS = (ClockKind.SUSAR_FATAL, ClockKind.SUSAR_FATAL_FOLLOWUP, ClockKind.SUSAR_OTHER, ClockKind.SUSAR_BECAME_FATAL)
