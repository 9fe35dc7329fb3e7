"""History views: when, who, field, old -> new, reason (per form and per participant)."""

from __future__ import annotations

from typing import Any

from django.db import models

from ecrf.accounts.roles import user_roles
from ecrf.crf.registry import FormSpec, all_specs

_HIDDEN = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id",
           "history_user", "prev_hash", "row_hash", "version", "updated_at", "updated_by", "updated_by_id",
           "created_at", "created_by", "created_by_id", "id", "participant", "participant_id"}
_CHANGE = {"+": "created", "~": "changed", "-": "deleted"}


def _display(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _field_names(model: type[models.Model]) -> list[str]:
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


def form_history(spec: FormSpec, form: models.Model) -> list[dict[str, Any]]:
    records = list(form.history.select_related("history_user").order_by("history_date", "history_id"))
    return history_entries(records, form_label=spec.label, fields=_field_names(spec.model))


def participant_history(user: Any, participant: models.Model) -> list[dict[str, Any]]:
    """The participant's own history and that of every form the user may read: one query per form type."""
    records = list(participant.history.select_related("history_user").order_by("history_date", "history_id"))
    from ecrf.crf.models import Participant

    entries = history_entries(records, form_label="Participant", fields=_field_names(Participant))
    roles = user_roles(user)
    for spec in all_specs():
        if not roles & (spec.read_roles | spec.correction_roles):
            continue
        history_model = spec.model.history.model
        rows = list(history_model.objects.filter(participant_id=participant.pk).select_related("history_user")
                    .order_by("id", "history_date", "history_id"))
        by_object: dict[int, list[Any]] = {}
        for row in rows:
            by_object.setdefault(row.id, []).append(row)
        for object_rows in by_object.values():
            entries.extend(history_entries(object_rows, form_label=spec.label, fields=_field_names(spec.model)))
    entries.sort(key=lambda e: (e["when"], e["form"], e["record"]))
    return entries
