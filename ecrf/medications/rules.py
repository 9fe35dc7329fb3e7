"""The concomitant-medication form's rules, as pure functions on plain values.

A concomitant medication is one taken from screening to the end of follow-up (the last vital
status day); a corticosteroid carries its daily dose in hydrocortisone equivalents, so that a
dose above the eligibility threshold (trial.md "Who is screened") taken at screening is flagged.
``hooks`` computes the study days of the dates and calls these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ecrf.study.protocol import Protocol


@dataclass(frozen=True)
class MedicationEntry:
    dose: Decimal | None = None
    started_on: dt.date | None = None
    stopped_on: dt.date | None = None
    is_corticosteroid: bool = False
    hydrocortisone_mg_per_day: Decimal | None = None


def medication_problems(entry: MedicationEntry, *, today: dt.date, protocol: Protocol,
                        started_day: int | None, stopped_day: int | None, last_day_date: dt.date) -> dict[str, str]:
    """``started_day`` and ``stopped_day`` are the study days of the dates (day 1 is the
    randomization date; screening is day 0 or earlier); ``last_day_date`` the date of the last
    follow-up day. The first problem found, or nothing."""
    last = max(protocol.vital_status_days)
    if entry.dose is not None and entry.dose <= 0:
        return {"dose": "The dose must be more than 0."}
    if entry.started_on and entry.started_on > today:
        return {"started_on": "The start date cannot be in the future."}
    if entry.started_on and entry.stopped_on and entry.stopped_on < entry.started_on:
        return {"stopped_on": "The stop date is before the start date."}
    if stopped_day is not None and stopped_day < 0:
        return {"stopped_on": "Medications stopped before screening are not concomitant; leave them out."}
    if started_day is not None and started_day > last:
        return {"started_on": f"The start date is after day {last} ({last_day_date}), the end of follow-up."}
    if entry.is_corticosteroid and entry.hydrocortisone_mg_per_day is None:
        return {"hydrocortisone_mg_per_day": "Give the daily dose in hydrocortisone equivalents for a corticosteroid."}
    if not entry.is_corticosteroid and entry.hydrocortisone_mg_per_day is not None:
        return {"is_corticosteroid": "Tick 'corticosteroid' to record a hydrocortisone-equivalent dose."}
    return {}


def contradicts_eligibility(entry: MedicationEntry, *, screening_date: dt.date, protocol: Protocol) -> bool:
    """A corticosteroid taken on the screening date at a daily dose strictly above the protocol's
    maximum (hydrocortisone equivalents) contradicts the eligibility recorded at screening."""
    if not (entry.is_corticosteroid and entry.hydrocortisone_mg_per_day is not None and entry.started_on):
        return False
    active = entry.started_on <= screening_date and (entry.stopped_on is None or entry.stopped_on >= screening_date)
    return active and entry.hydrocortisone_mg_per_day > protocol.corticosteroid_max_hydrocortisone_mg_per_day
