"""What each user should do next: providers registered by apps, shown on the home page."""

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
