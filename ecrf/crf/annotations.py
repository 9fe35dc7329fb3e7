"""Notes shown beside a form's fields, contributed by the data-management apps (an open query on
a field, a stale verification), so the form pages name none of them. A provider costs a fixed
number of queries per form and returns only what the user may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALL_FIELDS = ""  # a note about the form as a whole rather than one field


@dataclass(frozen=True)
class FieldNote:
    kind: str  # "query", "verification", ...: the page's badge
    text: str  # what the viewer reads, in words
    url: str = ""  # where to act on it (a page the viewer may open), "" when none
    tone: str = "info"  # "info", "warning" or "danger": how loudly the page shows it


# (user, form instance) -> {field name or ALL_FIELDS: [notes]}
NoteProvider = Callable[[Any, Any], dict[str, list[FieldNote]]]
_PROVIDERS: list[NoteProvider] = []


def register_field_notes(func: NoteProvider) -> NoteProvider:
    if func not in _PROVIDERS:
        _PROVIDERS.append(func)
    return func


def field_notes_for(user: Any, instance: Any) -> dict[str, list[FieldNote]]:
    notes: dict[str, list[FieldNote]] = {}
    if instance is None or instance.pk is None:
        return notes
    for func in _PROVIDERS:
        for name, found in func(user, instance).items():
            notes.setdefault(name, []).extend(found)
    return notes
