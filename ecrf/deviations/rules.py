"""The protocol-deviation form's rules, as pure functions on plain values."""

from __future__ import annotations

import datetime as dt

# ``models.FoundBy.SYSTEM``: only the system's own rules (which set ``rule_code``) record it.
FOUND_BY_SYSTEM = "system"


def deviation_problems(*, occurred_on: dt.date | None, found_by: str, rule_code: str,
                       today: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if occurred_on and occurred_on > today:
        errors["occurred_on"] = "The deviation date cannot be in the future."
    if found_by == FOUND_BY_SYSTEM and not rule_code:
        errors["found_by"] = "Only the system's own rules record 'System rule'; choose who found it."
    return errors
