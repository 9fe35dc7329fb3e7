"""Reads this app needs from screening and randomization, behind one small adapter each.

They read ``ecrf.screening.selectors``: ``withdrawals_for(participant_ids)`` (the withdrawal of consent
recorded through ``ecrf.screening.services.consent_withdraw``: ``type`` in 'treatment' |
'data_collection' | 'data_use' and a ``date``) and ``screening_outcome(participant)`` (its
``sepsis3_at``). The schedule, dosing and outcomes code call only these functions, so that what
they need from screening is in one place (and tests of those apps can use any participant: one
randomized without a screening form has no withdrawal and no known Sepsis-3 time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ecrf.screening import selectors as screening

WITHDRAWAL_TREATMENT = "treatment"
WITHDRAWAL_DATA_COLLECTION = "data_collection"
WITHDRAWAL_DATA_USE = "data_use"


@dataclass(frozen=True)
class Withdrawal:
    type: str
    date: dt.date


def withdrawal_for(participant: Any) -> Withdrawal | None:
    """The participant's withdrawal (type and date), or None."""
    return withdrawals_for([participant.pk]).get(participant.pk)


def withdrawals_for(participant_ids: Iterable[int]) -> dict[int, Withdrawal]:
    """participant id -> withdrawal, for those that withdrew (one query whatever their number)."""
    return {pid: Withdrawal(type=str(found.type), date=found.date)
            for pid, found in screening.withdrawals_for(participant_ids).items()}


def sepsis3_at_for(participant: Any) -> dt.datetime | None:
    """When the participant met Sepsis-3 (from screening), or None if unknown."""
    outcome = screening.screening_outcome(participant)
    return outcome.sepsis3_at if outcome is not None else None
