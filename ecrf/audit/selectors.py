"""Generic history mechanics: consecutive history rows of one object become per-field change
entries (when, who, field, old -> new, reason). Which forms a user may read, and so whose history
is shown, is the CRF layer's business (``ecrf.crf.history``)."""

from __future__ import annotations

from typing import Any

from django.db import models

_HIDDEN = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id",
           "history_user", "prev_hash", "row_hash", "version", "updated_at", "updated_by", "updated_by_id",
           "created_at", "created_by", "created_by_id", "id", "participant", "participant_id"}
_CHANGE = {"+": "created", "~": "changed", "-": "deleted"}


def _display(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def field_names(model: type[models.Model]) -> list[str]:
    """The model's fields a reader of its history sees (bookkeeping columns left out)."""
    return [f.attname for f in model._meta.concrete_fields if f.attname not in _HIDDEN and f.name not in _HIDDEN]


def history_entries(records: list[Any], *, form_label: str, fields: list[str]) -> list[dict[str, Any]]:
    """Turn consecutive history rows of one object into per-field change entries."""
    entries: list[dict[str, Any]] = []
    previous: Any = None
    for record in records:
        who = record.history_user.get_username() if record.history_user_id else None
        base = {"when": record.history_date, "who": who, "form": form_label, "record": str(record.id),
                "change": _CHANGE.get(record.history_type, record.history_type), "reason": record.history_change_reason}
        changed = False
        for name in fields:
            new = getattr(record, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None and new in (None, ""):
                continue
            if previous is not None and old == new:
                continue
            changed = True
            entries.append({**base, "field": name.removesuffix("_id"), "old": _display(old), "new": _display(new)})
        if not changed:
            entries.append({**base, "field": None, "old": None, "new": None})
        previous = record
    return entries
