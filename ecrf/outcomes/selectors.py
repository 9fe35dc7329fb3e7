"""Reads other apps rely on (SOFA endpoints, safety): the participant's death.

Contract (read by the SOFA endpoints and safety): ``death_for(participant)`` is the submitted, non-retracted death
record (``died_at`` aware datetime, ``study_day`` int: day 1 = randomization date, site zone) or
None (``deaths_for(ids)``: of many, in one query); ``death_days(ids)`` maps participant id -> study day of death, in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecrf.crf.models import EntryStatus
from ecrf.outcomes.models import Death, EndOfStudy, VitalStatus


def death_for(participant: Any) -> Death | None:
    pid = getattr(participant, "pk", participant)
    return deaths_for([pid]).get(pid)


def deaths_for(participant_ids: Iterable[int]) -> dict[int, Death]:
    """participant id -> its death record (the first submitted one), in one query."""
    out: dict[int, Death] = {}
    for death in Death.objects.filter(participant_id__in=list(participant_ids), status=EntryStatus.SUBMITTED).order_by("pk"):
        out.setdefault(death.participant_id, death)
    return out


def death_days(participant_ids: Iterable[int]) -> dict[int, int]:
    rows = Death.objects.filter(participant_id__in=list(participant_ids), status=EntryStatus.SUBMITTED)
    return dict(rows.values_list("participant_id", "study_day"))


def vital_status_for(participant: Any, day: int) -> VitalStatus | None:
    pid = getattr(participant, "pk", participant)
    return VitalStatus.objects.filter(participant_id=pid, day=day, status=EntryStatus.SUBMITTED).first()


def end_of_study_for(participant: Any) -> EndOfStudy | None:
    pid = getattr(participant, "pk", participant)
    return EndOfStudy.objects.filter(participant_id=pid, status=EntryStatus.SUBMITTED).first()
