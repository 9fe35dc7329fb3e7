"""Write listeners: every consequence of a write, declared where it belongs and called by the one
write path inside its transaction.

An app that must react when another app's data changes registers a listener for that form key
(``on_written("outcomes.death", fn)``), in its own ``listeners.py`` imported from its
``AppConfig.ready()``. The generic form services (``ecrf.crf.services``) call ``written()`` after
each save, in the same transaction, so that a consequence either commits with the write or not at
all; work that must happen after the commit (a Celery task) is enqueued by the listener with
``transaction.on_commit``. Nothing reacts to writes through ``post_save``: grep for ``on_written``
to find every consequence of a write.

Keys are form keys (``FormSpec.key``) or the participant events named below. Listeners of one key
run in registration order (the order of ``INSTALLED_APPS``) and must not depend on each other.
``ANY_FORM`` receives every form write (the edit checks attach there).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from ecrf.accounts.models import User

ANY_FORM = "*"
# Participant events of the core, written by ``ecrf.crf.services``.
PARTICIPANT_CREATED = "crf.participant.created"
PARTICIPANT_RANDOMIZED = "crf.participant.randomized"


class WriteAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # a draft changed, or a submitted form corrected with a reason
    SUBMITTED = "submitted"  # the form became submitted (with or without value changes)
    RETRACTED = "retracted"
    NOT_DONE = "not_done"
    RANDOMIZED = "randomized"


@dataclass(frozen=True)
class Write:
    """What was written: the saved row (after derivation), by whom, and how."""

    key: str
    instance: models.Model
    actor: User | None
    action: WriteAction

    @property
    def participant_id(self) -> int | None:
        if self.key.startswith("crf.participant."):
            return self.instance.pk
        return getattr(self.instance, "participant_id", None)


Listener = Callable[[Write], None]

_LISTENERS: dict[str, list[Listener]] = {}


def on_written(key: str, listener: Listener | None = None) -> Callable[[Listener], Listener] | Listener:
    """Register ``listener`` for writes of ``key``; usable as a decorator (``@on_written(key)``).
    Registering the same function twice for one key is a no-op (app reloading in tests)."""

    def add(fn: Listener) -> Listener:
        registered = _LISTENERS.setdefault(key, [])
        if fn not in registered:
            registered.append(fn)
        return fn

    return add(listener) if listener is not None else add


def listeners_for(key: str) -> tuple[Listener, ...]:
    return tuple(_LISTENERS.get(key, ()))


def all_listeners() -> dict[str, tuple[Listener, ...]]:
    """Every registered consequence of a write, by key (for the architecture test and docs)."""
    return {key: tuple(fns) for key, fns in sorted(_LISTENERS.items())}


def written(write: Write) -> None:
    """Call the listeners of ``write.key`` (and, for form writes, of ``ANY_FORM``) in the
    caller's transaction."""
    for fn in listeners_for(write.key):
        fn(write)
    if not write.key.startswith("crf.participant."):
        for fn in listeners_for(ANY_FORM):
            fn(write)
