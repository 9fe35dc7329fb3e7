"""Form history: a form's changes and a participant's whole casebook history, limited to the
forms the user may read (the mechanics are ``ecrf.audit.selectors``)."""

from __future__ import annotations

from typing import Any

from django.db import models

from ecrf.accounts.roles import user_roles
from ecrf.audit.selectors import field_names, history_entries
from ecrf.crf.models import Participant
from ecrf.crf.registry import FormSpec, all_specs


def form_history(spec: FormSpec, form: models.Model) -> list[dict[str, Any]]:
    records = list(form.history.select_related("history_user").order_by("history_date", "history_id"))
    return history_entries(records, form_label=spec.label, fields=field_names(spec.model))


def participant_history(user: Any, participant: models.Model) -> list[dict[str, Any]]:
    """The participant's own history and that of every form the user may read: one query per form type."""
    records = list(participant.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = history_entries(records, form_label="Participant", fields=field_names(Participant))
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
            entries.extend(history_entries(object_rows, form_label=spec.label, fields=field_names(spec.model)))
    entries.sort(key=lambda e: (e["when"], e["form"], e["record"]))
    return entries
