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


@dataclass(frozen=True)
class HeaderItem:
    """One fact (phenotype, study day, status) or alert (open SAE clocks, missed doses,
    withdrawal) in the participant page's header, contributed by the app that knows it."""

    label: str
    value: str
    alert: bool = False
    level: str = "warning"  # an alert's tone: "danger", "warning" or "info"
    url: str = ""
    order: int = 100


HeaderFunc = Callable[[Any, Any], list[HeaderItem]]  # (user, participant) -> items the user may see
_HEADERS: list[HeaderFunc] = []


def register_header(func: HeaderFunc) -> HeaderFunc:
    if func not in _HEADERS:
        _HEADERS.append(func)
    return func


def header_for(user: Any, participant: Any) -> tuple[list[HeaderItem], list[HeaderItem]]:
    """(facts, alerts) for the participant page's header, each in its declared order."""
    items = sorted((i for func in _HEADERS for i in func(user, participant)), key=lambda i: (i.order, i.label))
    return [i for i in items if not i.alert], [i for i in items if i.alert]
