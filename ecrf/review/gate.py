"""The study-lock gate: what must hold before the study (or a site) may be locked.

Each data-management concern contributes its own blockers, so this module names none of them:
the review app registers the entry, verification and signature conditions, the queries app the
open-query condition (``register_blocker`` from the app's own module, imported in ``ready()``).
A blocker says exactly what stands in the way and where to fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from ecrf.core.errors import DomainError
from ecrf.review.errors import ReviewError

# The conditions this module's registrants contribute (a blocker's ``condition``): shown on the
# lock console with their labels. A condition another app registers is shown by its code.
CONDITION_LABELS = {
    "entry": "Every expected form entered or marked not done",
    "verification": "Source data verification done as the plan requires",
    "signatures": "Every casebook signed by an investigator",
    "open_queries": "No open query",
}


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


def applied_conditions() -> frozenset[str] | None:
    """Which conditions the gate applies: the ``STUDY_LOCK_GATE_CONDITIONS`` setting (codes), or
    every registered condition when it is not set (None). A study that decides, for example, to
    lock without signatures of every casebook lists the others."""
    chosen: Iterable[str] | None = getattr(settings, "STUDY_LOCK_GATE_CONDITIONS", None)
    return None if chosen is None else frozenset(chosen)


def blockers(*, site_id: int | None = None) -> list[Blocker]:
    """Everything that blocks locking the study (``site_id=None``) or one site."""
    applied = applied_conditions()
    found = [b for func in _BLOCKERS for b in func(site_id) if applied is None or b.condition in applied]
    return sorted(found, key=lambda b: (b.condition, b.participant_id or 0, b.message))


class GateBlocked(DomainError):
    """The study lock is refused: ``blockers`` says exactly what stands in the way."""

    def __init__(self, found: list[Blocker]) -> None:
        super().__init__(ReviewError.LOCK_GATE_BLOCKED,
                         f"The study cannot be locked yet: {len(found)} blocker(s). Resolve each one listed, then lock again.",
                         fields={"blockers": [b.message for b in found]})
        self.blockers = found

    def as_dict(self) -> dict:
        out = super().as_dict()
        out["error"]["blockers"] = [asdict(b) for b in self.blockers]
        return out
