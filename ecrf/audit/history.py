"""django-simple-history wired to the hash chain: every clinical model's history uses this."""

from __future__ import annotations

from typing import Any

from simple_history.models import HistoricalRecords
from django.apps import apps

from ecrf.audit.models import ChainedRecord


def audited_history(**kwargs: Any) -> HistoricalRecords:
    """``history = audited_history()`` on a clinical model: chained, with user and reason."""
    kwargs.setdefault("bases", [ChainedRecord])
    kwargs.setdefault("cascade_delete_history", False)
    return HistoricalRecords(**kwargs)


def chained_models() -> list[type]:
    return [m for m in apps.get_models() if issubclass(m, ChainedRecord)]
