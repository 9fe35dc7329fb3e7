"""Panels on the participant page, contributed by apps (screening outcome, randomize button,
casebook link, SOFA trajectory, endpoints, adverse events...). A panel function returns None
when the user may not see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


PanelFunc = Callable[[Any, Any], "Panel | None"]  # (user, participant) -> Panel | None
_PANELS: list[PanelFunc] = []


def register_panel(func: PanelFunc) -> PanelFunc:
    if func not in _PANELS:
        _PANELS.append(func)
    return func


def panels_for(user: Any, participant: Any) -> list[Panel]:
    panels = [p for p in (func(user, participant) for func in _PANELS) if p is not None]
    return sorted(panels, key=lambda p: (p.order, p.title))
