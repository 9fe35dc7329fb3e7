"""The participant's timeline: study days and treatment due times. Pure, no Django.

Rules enforced here (ARCHITECTURE.md "Time"; reference/trial.md "Treatment", "Assessments"):

- Study day 1 is the calendar date of randomization in the *site's* time zone; day n is that
  date + (n - 1). Dates before randomization continue the same arithmetic: the day before is
  day 0, the one before that day -1, and so on (there is no gap, so ``day - 1`` is always a
  number of calendar days; an export to CDISC --DY, which has no day 0, maps ``day <= 0`` to
  ``day - 1``).
- A study day is a calendar day in the site's zone: ``[local midnight, next local midnight)``,
  23 or 25 hours long across a daylight-saving change.
- Administrations run on elapsed time from the first dose: IV dose k at first + 8 h x (k - 1),
  SC dose k at first + 48 h x (k - 1); treatment lasts 15 x 24 h from the first dose. Pages group
  doses by the study day (site zone) in which they fall.
- The Sepsis-3 window (72 h) is elapsed time.

All datetimes must be timezone-aware (naive ones raise ``ValueError``); returned datetimes are
in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ecrf.core.timeutils import local_midnight_utc, require_aware
from ecrf.core.timeutils import zone as _zone
from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol




def _randomization_date(randomized_at: datetime, tz: ZoneInfo) -> date:
    return require_aware("randomized_at", randomized_at).astimezone(tz).date()


def study_day(moment: datetime, *, randomized_at: datetime, tz: str) -> int:
    """The study day in which ``moment`` falls, in site zone ``tz``.

    ARCHITECTURE.md "Time": day 1 is the calendar date of randomization in the site's zone. Before it:
    0, -1, ... (see the module docstring)."""
    moment = require_aware("moment", moment)
    zone = _zone(tz)
    day1 = _randomization_date(randomized_at, zone)
    return (moment.astimezone(zone).date() - day1).days + 1


def date_of_study_day(day: int, *, randomized_at: datetime, tz: str) -> date:
    """The calendar date (site zone ``tz``) of study day ``day``."""
    day1 = _randomization_date(randomized_at, _zone(tz))
    return day1 + timedelta(days=day - 1)


def day_bounds(day: int, *, randomized_at: datetime, tz: str) -> tuple[datetime, datetime]:
    """Study day ``day`` as a half-open UTC interval ``[start, end)``.

    trial.md "Assessments": SOFA day n >= 2 covers that calendar day in the site's zone; the
    interval is 23 or 25 hours long on daylight-saving change days."""
    zone = _zone(tz)
    local = _randomization_date(randomized_at, zone) + timedelta(days=day - 1)
    return local_midnight_utc(local, zone), local_midnight_utc(local + timedelta(days=1), zone)


def treatment_end(first_dose_at: datetime, *, protocol: Protocol = DEFAULT_PROTOCOL) -> datetime:
    """The end of treatment: first dose + 15 x 24 elapsed hours (ARCHITECTURE.md "Time")."""
    first = require_aware("first_dose_at", first_dose_at)
    return first + timedelta(hours=24 * protocol.treatment_days)


def _due_times(
    first_dose_at: datetime, *, interval_hours: int, count: int, protocol: Protocol
) -> list[datetime]:
    end = treatment_end(first_dose_at, protocol=protocol)
    first = require_aware("first_dose_at", first_dose_at)
    times = [first + timedelta(hours=interval_hours * k) for k in range(count)]
    # ARCHITECTURE.md "Time": treatment lasts 15 x 24 h, "so at most 45 IV and 8 SC doses": a dose is
    # scheduled only if it falls before the end of treatment, whatever the configured count.
    return [t for t in times if t < end]


def iv_due_times(
    first_dose_at: datetime, *, protocol: Protocol = DEFAULT_PROTOCOL
) -> list[datetime]:
    """Due times (UTC) of IV doses 1..45: first + 8 h x (k - 1) (trial.md "Treatment").

    Index i of the list is dose number i + 1."""
    return _due_times(
        first_dose_at,
        interval_hours=protocol.iv_interval_hours,
        count=protocol.iv_dose_count,
        protocol=protocol,
    )


def sc_due_times(
    first_dose_at: datetime, *, protocol: Protocol = DEFAULT_PROTOCOL
) -> list[datetime]:
    """Due times (UTC) of SC doses 1..8: first + 48 h x (k - 1) (trial.md "Treatment").

    Index i of the list is dose number i + 1."""
    return _due_times(
        first_dose_at,
        interval_hours=protocol.sc_interval_hours,
        count=protocol.sc_dose_count,
        protocol=protocol,
    )


def doses_by_study_day(
    due_times: Sequence[datetime], *, randomized_at: datetime, tz: str
) -> dict[int, list[int]]:
    """Dose numbers (1-based, in the order given) grouped by the study day in which each is due.

    ARCHITECTURE.md "Time": pages group doses by the study day (site zone) in which they fall. Keys
    are in ascending day order; days without a dose are absent."""
    grouped: dict[int, list[int]] = {}
    for number, due in enumerate(due_times, start=1):
        day = study_day(due, randomized_at=randomized_at, tz=tz)
        grouped.setdefault(day, []).append(number)
    return dict(sorted(grouped.items()))


def within_sepsis_window(
    sepsis3_at: datetime, moment: datetime, *, protocol: Protocol = DEFAULT_PROTOCOL
) -> bool:
    """Whether ``moment`` is within 72 elapsed hours of Sepsis-3 onset, 72 h inclusive.

    ARCHITECTURE.md "Time": the limit is a randomization gate; a first dose given later is a protocol
    deviation. A moment *before* onset is not within the window (the participant did not yet
    meet Sepsis-3), so it returns False."""
    # Elapsed time: both in UTC, so a DST change between them does not distort the difference.
    elapsed = require_aware("moment", moment) - require_aware("sepsis3_at", sepsis3_at)
    return timedelta(0) <= elapsed <= timedelta(hours=protocol.sepsis_window_hours)


__all__ = [
    "date_of_study_day",
    "day_bounds",
    "doses_by_study_day",
    "iv_due_times",
    "sc_due_times",
    "study_day",
    "treatment_end",
    "within_sepsis_window",
]
