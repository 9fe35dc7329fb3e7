"""The outcome forms' rules (death, vital status, new infection, end of study), as pure
functions on plain values.

Follow-up ends on the last vital-status day (trial.md: days 28 and 90). ``hooks`` reads the form
and the participant's record (study days of the dates, the recorded death, doses given) and
calls these functions. Each returns ``{field: message}`` for the first problem found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ecrf.study.protocol import Protocol

# Stored codes (``models.VitalState``, ``models.Disposition``).
ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"
COMPLETED, DIED = "completed", "died"
# How many of the doses contradicting a time of death a message names.
DOSES_NAMED = 5


@dataclass(frozen=True)
class GivenDose:
    """An administration recorded as given: its route's label, its number and start."""

    route_label: str
    dose_number: int | None
    started_at: dt.datetime


def death_problems(*, died_at: dt.datetime | None, randomized_at: dt.datetime, now: dt.datetime, zone: dt.tzinfo,
                   given_after: Sequence[GivenDose]) -> dict[str, str]:
    """``given_after``: the doses recorded as given after ``died_at``, earliest first."""
    if died_at is None:
        return {}
    if died_at < randomized_at:
        return {"died_at": "The time of death is before randomization; a death before randomization is a screening failure, not an outcome."}
    if died_at > now:
        return {"died_at": "The time of death cannot be in the future."}
    # A dose recorded as given after the time of death and the death cannot both be true: the
    # death is refused, naming the doses to check (the primary endpoint counts SOFA 24 from the
    # day of death, and the mITT population counts doses given).
    if given_after:
        first = given_after[0].started_at.astimezone(zone)
        doses = ", ".join(f"{d.route_label} dose {d.dose_number}" for d in given_after[:DOSES_NAMED])
        more = f" and {len(given_after) - DOSES_NAMED} more" if len(given_after) > DOSES_NAMED else ""
        return {"died_at": f"{len(given_after)} administration(s) are recorded as given after this time of death, the first "
                           f"at {first:%Y-%m-%d %H:%M %Z} ({doses}{more}); correct the time of death or those "
                           "administrations first."}
    return {}


@dataclass(frozen=True)
class VitalEntry:
    day: int | None
    vital_status: str = ""
    assessed_on: dt.date | None = None
    last_contact_date: dt.date | None = None


@dataclass(frozen=True)
class VisitWindow:
    """The day's date and the visit window around it (``ecrf.study.visits``)."""

    target: dt.date
    before_days: int
    after_days: int


def vital_status_problems(entry: VitalEntry, *, protocol: Protocol, window: VisitWindow | None, today: dt.date,
                          death_recorded: bool) -> dict[str, str]:
    if entry.day not in protocol.vital_status_days:
        days = " or ".join(str(d) for d in protocol.vital_status_days)
        return {"day": f"Vital status is recorded on day {days}."}
    if entry.assessed_on is not None and window is not None:
        first = window.target - dt.timedelta(days=window.before_days)
        last = window.target + dt.timedelta(days=window.after_days)
        if not first <= entry.assessed_on <= last:
            return {"assessed_on": f"Day {entry.day} vital status is assessed between {first} and {last} "
                                   f"(day {entry.day} is {window.target})."}
        if entry.assessed_on > today:
            return {"assessed_on": "The assessment date cannot be in the future."}
    if entry.vital_status == UNKNOWN and entry.last_contact_date is None:
        return {"last_contact_date": "Give the last date the participant was known to be alive when the status is unknown."}
    if entry.vital_status != UNKNOWN and entry.last_contact_date is not None:
        return {"last_contact_date": "The last contact date is recorded only when the status is unknown."}
    if (entry.last_contact_date is not None and entry.assessed_on is not None
            and entry.last_contact_date > entry.assessed_on):
        return {"last_contact_date": "The last contact date cannot be after the assessment date."}
    if entry.vital_status == DEAD and not death_recorded:
        return {"vital_status": "Record and submit the death form first (date, time and cause of death)."}
    return {}


def infection_problems(*, onset_date: dt.date | None, onset_day: int | None, today: dt.date,
                       protocol: Protocol) -> dict[str, str]:
    """``onset_day``: the study day of ``onset_date``."""
    if onset_date is None or onset_day is None:
        return {}
    last = max(protocol.vital_status_days)
    if onset_day < 1:
        return {"onset_date": "A new infection starts after randomization (day 1 or later); earlier infections belong to screening."}
    if onset_day > last:
        return {"onset_date": f"The onset date is after day {last}, the end of follow-up."}
    if onset_date > today:
        return {"onset_date": "The onset date cannot be in the future."}
    return {}


def end_of_study_problems(*, disposition: str, disposition_date: dt.date | None, disposition_day: int | None,
                          today: dt.date, protocol: Protocol, death_recorded: bool) -> dict[str, str]:
    """``disposition_day``: the study day of ``disposition_date``."""
    if disposition_date is None or disposition_day is None:
        return {}
    if disposition_day < 1:
        return {"disposition_date": "The end-of-study date cannot be before randomization."}
    if disposition_date > today:
        return {"disposition_date": "The end-of-study date cannot be in the future."}
    if disposition == DIED and not death_recorded:
        return {"disposition": "Record and submit the death form first."}
    if disposition == COMPLETED:
        last_day = max(protocol.vital_status_days)
        if disposition_day < last_day:
            return {"disposition_date": f"A participant completes the study on day {last_day} or later."}
    return {}
