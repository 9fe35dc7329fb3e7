"""Bulk entry for ``generate_trial`` at scale (``--bulk``): rows inserted in batches, each one
through the same validation and derivation as a form save, each with its chained history row.

A form save (``ecrf.crf.services.form_create``) parses the raw values (``coerce_data``), runs the
spec's ``derive`` and ``validate`` hooks and the model's field validators, and saves the row with
a history row linked into its table's keyed chain. ``BulkWriter.form`` does the same per row,
except that the row waits in memory and is inserted with others of its table in one
``bulk_create``, and its history rows are linked by ``append_many_to_chain`` under one lock of
the chain head (so ``verify_audit`` accepts them exactly as it accepts single saves).

A step whose hooks read the participant's other forms from the database (the dosing context,
the SOFA carry-forward) passes ``problems=``/``derive=``: the app's own pure rule function, fed
with what the step is entering, so that no rule is written twice. What a save's listeners do
(``ecrf.crf.listeners``) the bulk steps do set-wise after their inserts: the endpoint
re-derivation and the edit-check sweep over the whole trial, the dosing deviations through the
dosing listener itself. Only the synthetic generator uses this module: real entry goes through
the services, one write at a time, with its locks and the write guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from django.db import models, transaction
from django.utils import timezone

from ecrf.audit import models as audit_models
from ecrf.audit.models import append_many_to_chain
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.core.validation import full_clean_or_400
from ecrf.crf.models import CRF, EntryStatus
from ecrf.crf.registry import FormSpec
from ecrf.crf.services import coerce_data, form_create
from ecrf.study.models import Study

Problems = Callable[[CRF], dict[str, str]]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


class BulkWriter:
    """Rows waiting for their table's next batch, with the history each will get."""

    def __init__(self, *, batch_size: int = 5000) -> None:
        self.batch_size = batch_size
        self._new: dict[type[models.Model], list[tuple[models.Model, Any, dt.datetime, str]]] = {}
        self.rows: Counter[str] = Counter()  # table -> rows inserted (live and history)

    # --- entry ---------------------------------------------------------------------------------

    def form(self, spec: FormSpec, participant: Any, data: dict[str, Any], *, actor: Any, at: dt.datetime,
             problems: Problems | None = None, derive: Callable[[CRF], None] | None = None,
             reason: str = "Created and submitted") -> CRF:
        """A submitted ``spec`` form with ``data``, entered at ``at`` by ``actor``: parsed, derived
        and validated as ``form_create`` does (``derive`` / ``problems`` replace the spec's
        hooks where those read the participant's other forms). Raises the service's 400."""
        values = coerce_data(spec, data)
        form = spec.model(participant=participant, **values)
        user = _user(actor)
        form.created_by = form.updated_by = user
        form.status = EntryStatus.SUBMITTED
        form.submitted_at = form.updated_at = form.created_at = at
        (derive or spec.derive or (lambda f: None))(form)
        errors = problems(form) if problems is not None else (spec.validate(form) if spec.validate else {})
        if errors:
            name, message = next(iter(errors.items()))
            raise DomainError(ErrorCode.INVALID, f"{spec.label} of {participant.screening_number}: {name}: {message}",
                              fields=errors)
        full_clean_or_400(form, exclude=["participant", "created_by", "updated_by"])
        self.add(form, actor=user, at=at, reason=reason)
        return form

    def add(self, instance: models.Model, *, actor: Any, at: dt.datetime, reason: str) -> models.Model:
        """Queue a new audited row (already validated by its caller) with its history row."""
        queue = self._new.setdefault(type(instance), [])
        queue.append((instance, _user(actor), at, reason))
        if len(queue) >= self.batch_size:
            self.flush(type(instance))
        return instance

    # --- inserts -------------------------------------------------------------------------------

    def flush(self, model: type[models.Model] | None = None) -> None:
        """Insert the waiting rows (of ``model``, or all in the order they were first queued)."""
        for m in [model] if model is not None else list(self._new):
            queue = self._new.pop(m, [])
            if not queue:
                continue
            with transaction.atomic():
                m.objects.bulk_create([row for row, *_ in queue], batch_size=self.batch_size)
                self.rows[m._meta.db_table] += len(queue)
                self.history(queue, history_type="+")

    def history(self, entries: list[tuple[models.Model, Any, dt.datetime, str]], *, history_type: str) -> None:
        """History rows of saved ``entries`` ((row, user, when, reason) of one model), chained."""
        if not entries:
            return
        history_model = type(entries[0][0]).history.model
        tracked = history_model.tracked_fields
        records = [history_model(history_date=at, history_user_id=user.pk if user is not None else None,
                                 history_change_reason=reason, history_type=history_type,
                                 **{f.attname: getattr(row, f.attname) for f in tracked})
                   for row, user, at, reason in entries]
        append_many_to_chain(history_model, records, batch_size=self.batch_size)
        self.rows[history_model._meta.db_table] += len(records)

    def update(self, model: type[models.Model], entries: list[tuple[models.Model, Any, dt.datetime, str]],
               fields: list[str]) -> None:
        """Save changed ``fields`` of rows already inserted, each change with its history row
        (who, when, reason) — never an update without history."""
        if not entries:
            return
        with transaction.atomic():
            model.objects.bulk_update([row for row, *_ in entries], fields, batch_size=self.batch_size)
            self.history([(row, _user(user), at, reason) for row, user, at, reason in entries], history_type="~")


@contextlib.contextmanager
def history_deferred(writer: BulkWriter) -> Iterator[None]:
    """Service calls inside this block (a listener, a withdrawal) save their rows as usual, but
    their history rows are linked into the chain together at the end of the block, under one
    head lock per table (``append_many_to_chain``) instead of one lock and three statements per
    row. One transaction: the live rows never commit without their history. Nothing inside may
    read the history it writes."""
    pending: dict[type[models.Model], list[models.Model]] = {}

    def defer(instance: models.Model) -> None:
        pending.setdefault(type(instance), []).append(instance)

    with transaction.atomic():
        with mock.patch.object(audit_models, "append_to_chain", defer):
            yield
        for model, records in pending.items():
            append_many_to_chain(model, records, batch_size=writer.batch_size)
            writer.rows[model._meta.db_table] += len(records)


@contextlib.contextmanager
def protocol_fixed() -> Iterator[None]:
    """The running study's protocol, read once: every hook asks ``current_protocol()``, one
    query per call; a generator run does not change the study."""
    protocol = Study.objects.current_protocol()
    with mock.patch.object(type(Study.objects), "current_protocol", lambda self: protocol):
        yield


def entered_at(moment: dt.datetime) -> dt.datetime:
    """When a synthetic entry is made: a little after the event, never after now."""
    return min(moment + dt.timedelta(minutes=5), timezone.now())


def enter(ctx: Any, spec: FormSpec, participant: Any, data: dict[str, Any], *, actor: Any,
          at: dt.datetime | None = None) -> CRF:
    """One submitted form of a synthetic step whose hooks read nothing the step is still
    entering: through ``form_create`` on the service path, through ``ctx.writer`` (the same
    hooks, batched) at scale. ``at``: when it was entered (now if not given)."""
    if getattr(ctx, "bulk", False):
        return ctx.writer.form(spec, participant, data, actor=actor, at=at or timezone.now())
    return form_create(actor=actor, spec=spec, participant=participant, data=data, submit=True)
