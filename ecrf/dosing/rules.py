"""The administration and discontinuation forms' rules, as pure functions on plain values.

The rules (trial.md "Treatment", ARCHITECTURE.md "Time"): a dose follows randomization, is not in
the future, falls in treatment (15 x 24 h from the first dose), is not given after death, after
withdrawal from treatment or after the route was permanently discontinued; a given dose has its
start, duration and volume, a dose not given its reason. ``hooks`` reads the form and what the
database says into the dataclasses below. Each function returns ``{field: message}`` for the
first problem it finds, empty when there is none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ecrf.schedule import timeline
from ecrf.study.protocol import Protocol

# Stored codes (``models.Route``, ``models.NotGivenReason``, ``models.DiscontinuationReason``).
IV, SC, BOTH = "iv", "sc", "both"
OTHER = "other"
ROUTE_LABEL = {IV: "IV study drug", SC: "SC study drug"}
# A start time a few minutes ahead of the server clock is a clock difference, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)


def due_times(route: str, anchor: dt.datetime, protocol: Protocol) -> list[dt.datetime]:
    """When each dose of the route is due, from the first dose (``anchor``)."""
    if route == IV:
        return timeline.iv_due_times(anchor, protocol=protocol)
    return timeline.sc_due_times(anchor, protocol=protocol)


@dataclass(frozen=True)
class AdministrationEntry:
    route: str
    dose_number: int | None = None
    given: bool = True
    reason_not_given: str = ""
    reason_other: str = ""
    started_at: dt.datetime | None = None
    duration_minutes: int | None = None
    volume_ml: Decimal | None = None
    interrupted: bool = False
    interruption_minutes: int | None = None
    interruption_notes: str = ""


@dataclass(frozen=True)
class AdministrationContext:
    """What the participant's record says around one administration."""

    randomized_at: dt.datetime
    zone: dt.tzinfo  # the site's: dates of withdrawal and discontinuation are site dates
    first_other_dose_at: dt.datetime | None = None  # the earliest other given dose
    died_at: dt.datetime | None = None
    treatment_withdrawn_on: dt.date | None = None
    route_discontinued_on: dt.date | None = None


def administration_problems(entry: AdministrationEntry, *, context: AdministrationContext, protocol: Protocol,
                            now: dt.datetime) -> dict[str, str]:
    label = ROUTE_LABEL.get(entry.route, "study drug")
    if entry.given:
        if entry.reason_not_given or entry.reason_other:
            return {"reason_not_given": "A reason is recorded only for a dose that was not given."}
        # An infusion has a duration; a subcutaneous injection is given at once and has none.
        required = (("started_at", entry.started_at), ("duration_minutes", entry.duration_minutes), ("volume_ml", entry.volume_ml))
        if entry.route != IV:
            required = tuple(pair for pair in required if pair[0] != "duration_minutes")
        missing = [name for name, value in required if value in (None, "")]
        if missing:
            return {missing[0]: "Required when the dose was given."}
        if entry.volume_ml is not None and entry.volume_ml <= 0:
            return {"volume_ml": "The volume given must be more than 0 mL."}
    else:
        if not entry.reason_not_given:
            return {"reason_not_given": "Give the reason the dose was not given."}
        if entry.reason_not_given == OTHER and not entry.reason_other.strip():
            return {"reason_other": "Describe the other reason."}
        if entry.started_at is not None or entry.duration_minutes is not None or entry.volume_ml is not None:
            return {"started_at": "A dose that was not given has no start time, duration or volume."}
    if entry.interrupted and entry.interruption_minutes is None:
        return {"interruption_minutes": "Give how long the administration was interrupted."}
    if not entry.interrupted and (entry.interruption_minutes is not None or entry.interruption_notes):
        return {"interrupted": "Tick 'interrupted' to record an interruption."}
    started = entry.started_at
    zone = context.zone
    if started is not None:
        if started < context.randomized_at:
            local = context.randomized_at.astimezone(zone)
            return {"started_at": f"The start time is before randomization ({local:%Y-%m-%d %H:%M %Z}); doses follow randomization."}
        if started > now + CLOCK_SKEW:
            return {"started_at": "The start time cannot be in the future."}
    candidates = [t for t in (context.first_other_dose_at, started) if t is not None]
    anchor = min(candidates) if candidates else context.randomized_at
    scheduled = due_times(entry.route, anchor, protocol)
    if entry.dose_number is not None and not 1 <= entry.dose_number <= len(scheduled):
        interval = protocol.iv_interval_hours if entry.route == IV else protocol.sc_interval_hours
        return {"dose_number": f"The {label} has doses 1 to {len(scheduled)} (every {interval} h for "
                               f"{protocol.treatment_days} days from the first dose)."}
    if started is None:
        return {}
    if started >= timeline.treatment_end(anchor, protocol=protocol):
        return {"started_at": f"The start time is after the end of treatment (day {protocol.treatment_days}: "
                              f"{protocol.treatment_days} x 24 h from the first dose)."}
    if context.died_at is not None and started > context.died_at:
        return {"started_at": "The start time is after the participant's recorded death."}
    started_on = started.astimezone(zone).date()
    if context.treatment_withdrawn_on is not None and started_on > context.treatment_withdrawn_on:
        return {"started_at": f"The participant withdrew from study treatment on {context.treatment_withdrawn_on}; "
                              "no dose is given after it."}
    if context.route_discontinued_on is not None and started_on > context.route_discontinued_on:
        return {"started_at": f"The {label} was permanently discontinued on {context.route_discontinued_on}."}
    return {}


def discontinuation_routes_clashing(route: str) -> set[str]:
    """The routes of earlier discontinuations that a new one of ``route`` repeats."""
    return {route} | ({IV, SC, BOTH} if route == BOTH else {BOTH})


@dataclass(frozen=True)
class DiscontinuationEntry:
    route: str
    discontinued_on: dt.date | None = None
    reason: str = ""
    reason_other: str = ""


def discontinuation_problems(entry: DiscontinuationEntry, *, study_day: int | None, first_day: dt.date,
                             last_day: dt.date, today: dt.date, protocol: Protocol,
                             already_recorded: bool) -> dict[str, str]:
    """``study_day`` is the study day of ``discontinued_on``; ``first_day`` and ``last_day`` the
    dates of treatment days 1 and ``protocol.treatment_days``; ``already_recorded`` whether a
    live discontinuation of a clashing route exists."""
    if entry.discontinued_on is not None:
        if study_day is None or not 1 <= study_day <= protocol.treatment_days:
            return {"discontinued_on": f"The date must fall in treatment, day 1 ({first_day}) to day "
                                       f"{protocol.treatment_days} ({last_day})."}
        if entry.discontinued_on > today:
            return {"discontinued_on": "The date cannot be in the future."}
    if entry.reason == OTHER and not entry.reason_other.strip():
        return {"reason_other": "Describe the other reason."}
    if already_recorded:
        return {"route": "A discontinuation of this study drug is already recorded; edit that one instead."}
    return {}
