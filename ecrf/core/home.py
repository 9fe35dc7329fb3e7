"""What each user should do next: the registry of home-page task providers.

An app adds what its users should do next with ``register_provider(fn)`` in its ``home.py``
(``fn(user) -> list[Task]``), imported from its ``AppConfig.ready()``. The registry is on the
ground floor so that a clinical app registers downward; the home page (``ecrf.home``, the top
layer) reads it with ``tasks_for``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Task:
    title: str
    detail: str
    url: str
    count: int | None = None
    urgent: bool = False


Provider = Callable[[Any], list[Task]]
_PROVIDERS: list[Provider] = []


def register_provider(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def tasks_for(user: Any) -> list[Task]:
    tasks: list[Task] = []
    for provider in _PROVIDERS:
        tasks.extend(provider(user))
    return sorted(tasks, key=lambda t: (not t.urgent, t.title))
