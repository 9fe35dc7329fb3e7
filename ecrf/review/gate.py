"""The study-lock gate: what must hold before the study (or a site) may be locked.

Each data-management concern contributes its own blockers, so this module names none of them:
the review app registers the entry, verification and signature conditions, the queries app the
open-query condition (``register_blocker`` from the app's own module, imported in ``ready()``).
A blocker says exactly what stands in the way and where to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Blocker:
    condition: str  # the gate condition it breaks, a stable code (e.g. "open_queries")
    message: str  # what blocks the lock, for a data manager
    participant_id: int | None = None
    url: str = ""  # where to fix it (a page the data manager may open), "" when none


# (site_id or None for the whole study) -> the blockers of that condition, at a fixed query cost.
BlockerFunc = Callable[[Any], list[Blocker]]
_BLOCKERS: list[BlockerFunc] = []


def register_blocker(func: BlockerFunc) -> BlockerFunc:
    if func not in _BLOCKERS:
        _BLOCKERS.append(func)
    return func


def blockers(*, site_id: int | None = None) -> list[Blocker]:
    """Everything that blocks locking the study (``site_id=None``) or one site."""
    found = [b for func in _BLOCKERS for b in func(site_id)]
    return sorted(found, key=lambda b: (b.condition, b.participant_id or 0, b.message))
