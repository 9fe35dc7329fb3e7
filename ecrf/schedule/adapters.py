"""Reads this app needs from screening (issue 3-4), behind one small adapter each.

``ecrf.screening.selectors`` provides ``withdrawal_for(participant)`` (an object with ``type`` in
'treatment' | 'data_collection' | 'data_use' and a ``date``) and ``screening_outcome(participant)``
(with ``sepsis3_at``). Until that app lands on this branch these return ``None``; the schedule,
dosing and outcomes code call only these functions, so pointing them at the real selectors is a
one-line change (or none: the import below picks them up once they exist).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

WITHDRAWAL_TREATMENT = "treatment"
WITHDRAWAL_DATA_COLLECTION = "data_collection"
WITHDRAWAL_DATA_USE = "data_use"


@dataclass(frozen=True)
class Withdrawal:
    type: str
    date: dt.date


def withdrawal_for(participant: Any) -> Withdrawal | None:
    """The participant's withdrawal (type and date), or None."""
    try:
        from ecrf.screening.selectors import withdrawal_for as screening_withdrawal
    except ImportError:
        return None
    found = screening_withdrawal(participant)
    if found is None:
        return None
    kind = getattr(found, "type", None) or getattr(found, "withdrawal_type", None)
    when = getattr(found, "date", None) or getattr(found, "withdrawn_on", None)
    if isinstance(when, dt.datetime):
        when = when.date()
    return Withdrawal(type=str(kind), date=when)


def sepsis3_at_for(participant: Any) -> dt.datetime | None:
    """When the participant met Sepsis-3 (from screening), or None if unknown."""
    try:
        from ecrf.screening.selectors import screening_outcome
    except ImportError:
        return None
    outcome = screening_outcome(participant)
    return getattr(outcome, "sepsis3_at", None) if outcome is not None else None
