"""Study-day arithmetic for a participant (site zone), over ``ecrf.schedule.timeline``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ecrf.schedule import timeline


def site_zone(participant: Any) -> str:
    return participant.site.time_zone


def day_of_moment(participant: Any, moment: dt.datetime) -> int | None:
    """Study day (day 1 = randomization date, site zone) in which ``moment`` falls."""
    if participant.randomized_at is None or moment is None:
        return None
    return timeline.study_day(moment, randomized_at=participant.randomized_at, tz=site_zone(participant))


def day_of_date(participant: Any, value: dt.date) -> int | None:
    if participant.randomized_at is None or value is None:
        return None
    day1 = timeline.date_of_study_day(1, randomized_at=participant.randomized_at, tz=site_zone(participant))
    return (value - day1).days + 1


def date_of_day(participant: Any, day: int) -> dt.date:
    return timeline.date_of_study_day(day, randomized_at=participant.randomized_at, tz=site_zone(participant))


def bounds_of_day(participant: Any, day: int) -> tuple[dt.datetime, dt.datetime]:
    return timeline.day_bounds(day, randomized_at=participant.randomized_at, tz=site_zone(participant))


def zone_of(participant: Any) -> ZoneInfo:
    """The participant's site time zone, in which study days and dates are counted."""
    return ZoneInfo(site_zone(participant))
