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


def _label(record: Any, name: str) -> str:
    """The field's label as the form shows it ("Heart rate", not ``heart_rate``)."""
    verbose = str(record._meta.get_field(name).verbose_name)
    return verbose[:1].upper() + verbose[1:]


def _shown(record: Any, name: str, value: Any) -> Any:
    """The value as a reader takes it: a coded value's label; other values as they are (the
    page formats dates, numbers and booleans)."""
    choices = dict(record._meta.get_field(name).flatchoices)
    return choices.get(value, value) if choices and value not in (None, "") else value


def history_entries(records: list[Any], *, form_label: str, fields: list[str]) -> list[dict[str, Any]]:
    """Turn consecutive history rows of one object into per-field change entries.

    Each entry has the raw text of the API (``field``, ``old``, ``new``, ``who``) and what a
    page shows (``label``, ``old_shown``, ``new_shown``, ``who_name``)."""
    entries: list[dict[str, Any]] = []
    previous: Any = None
    for record in records:
        user = record.history_user if record.history_user_id else None
        who = user.get_username() if user is not None else None
        base = {"when": record.history_date, "who": who, "who_name": (user.get_full_name() or who) if user else None,
                "form": form_label, "record": str(record.id),
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
            entries.append({**base, "field": name.removesuffix("_id"), "old": _display(old), "new": _display(new),
                            "label": _label(record, name), "old_shown": _shown(record, name, old),
                            "new_shown": _shown(record, name, new)})
        if not changed:
            entries.append({**base, "field": None, "old": None, "new": None, "label": None, "old_shown": None,
                            "new_shown": None})
        previous = record
    return entries
