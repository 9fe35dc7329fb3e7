"""Incremental verification of the audit trail from the last verified link, in bounded memory."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecrf.audit.integrity import latest_checkpoint, verify_chain
from ecrf.audit.models import Event, EventKind
from ecrf.audit.services import audit_verify, event_record
from ecrf.audit.tasks import verify_audit_chain
from ecrf.crf.services import form_create, form_update
from tests.audit.test_tamper_evidence import _sql
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(coordinator, participant_a):
    """A small trail, verified once in full (which records the checkpoint)."""
    form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})
    form = form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 90}, version=1, reason="Typo")
    full = audit_verify()
    assert full.ok and not full.incremental
    return form, full


def test_incremental_run_reads_only_the_links_written_since(verified):
    _, full = verified
    for n in range(3):
        event_record(kind=EventKind.DOWNLOAD, object_id=str(n))
    report = audit_verify(incremental=True)
    assert report.ok and report.incremental
    # The three downloads and the first run's own AUDIT_VERIFIED event; nothing older.
    assert report.chain_rows == 4
    assert report.live_rows == 0
    assert full.chain_rows > 10
    # The next incremental run starts after this run's event: one new link.
    assert audit_verify(incremental=True).chain_rows == 1


def test_incremental_run_compares_only_the_live_rows_with_new_history(verified, coordinator):
    form, full = verified
    form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 80}, version=form.version,
                reason="Re-measured")
    report = audit_verify(incremental=True)
    assert report.ok
    assert 1 <= report.live_rows < full.live_rows


def test_tampering_after_the_checkpoint_is_caught_by_the_incremental_run(verified, coordinator):
    form, _ = verified
    form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 80}, version=form.version,
                reason="Re-measured")
    history = VITALS.model.history.model
    table = history._meta.db_table
    newest = history._base_manager.order_by("-pk").first()
    _sql(table, f'UPDATE "{table}" SET heart_rate = %s WHERE history_id = %s', [55, newest.pk])
    report = audit_verify(incremental=True)
    assert not report.ok and report.incremental
    assert (report.broken.table, report.broken.pk) == (table, newest.pk)
    assert "keyed hash" in report.broken.problem


def test_a_live_row_changed_after_its_new_history_is_caught_incrementally(verified, coordinator):
    form, _ = verified
    form = form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 80}, version=form.version,
                       reason="Re-measured")
    table = VITALS.model._meta.db_table
    _sql(table, f'UPDATE "{table}" SET heart_rate = %s WHERE id = %s', [61, form.pk])
    report = audit_verify(incremental=True)
    assert (report.broken.table, report.broken.pk) == (table, form.pk)
    assert "heart_rate" in report.broken.problem


def test_tampering_before_the_checkpoint_needs_a_full_run(verified):
    history = VITALS.model.history.model
    table = history._meta.db_table
    oldest = history._base_manager.order_by("pk").first()
    _sql(table, f'UPDATE "{table}" SET heart_rate = %s WHERE history_id = %s', [150, oldest.pk])
    # Bounded by design: the incremental run does not re-read verified links ...
    assert audit_verify(incremental=True, record=False).ok
    # ... the full run does, and finds the altered row.
    report = audit_verify()
    assert not report.ok and not report.incremental
    assert (report.broken.table, report.broken.pk) == (table, oldest.pk)


def test_the_last_verified_row_altered_is_caught_incrementally(verified):
    history = VITALS.model.history.model
    table = history._meta.db_table
    pk, _ = latest_checkpoint()[table]
    _sql(table, f'UPDATE "{table}" SET row_hash = %s WHERE history_id = %s', ["f" * 64, pk])
    report = audit_verify(incremental=True)
    assert (report.broken.table, report.broken.pk) == (table, pk)
    assert "since it was verified" in report.broken.problem


def test_a_checkpoint_forged_without_the_key_is_refused(verified):
    forged = Event(kind=EventKind.AUDIT_VERIFIED, detail={"ok": True, "checkpoint": {}}, prev_hash="0" * 64,
                   row_hash="0" * 64)
    table = Event._meta.db_table
    _sql(table, f'INSERT INTO "{table}" (kind, at, actor_username, object_type, object_id, reason, detail, '
                "prev_hash, row_hash) VALUES (%s, %s, '', '', '', '', %s, %s, %s)",
         [forged.kind, "2026-11-21 10:00:00+00:00", '{"ok": true, "checkpoint": {}}', forged.prev_hash,
          forged.row_hash])
    assert latest_checkpoint() is None
    report = audit_verify(incremental=True)
    # No authentic checkpoint: a full run, which finds the forged row in the event chain.
    assert not report.incremental and not report.ok and report.broken.table == table


def test_a_row_appended_after_the_head_is_detected(verified):
    table = Event._meta.db_table
    last = Event.objects.order_by("-pk").first()
    _sql(table, f'INSERT INTO "{table}" (kind, at, actor_username, object_type, object_id, reason, detail, '
                "prev_hash, row_hash) VALUES ('download', %s, '', '', '', '', '{}', %s, %s)",
         ["2026-11-21 10:00:00+00:00", last.row_hash, "e" * 64])
    report = audit_verify(incremental=True, record=False)
    assert not report.ok and report.broken.table == table
    assert "follow the chain head" in report.broken.problem


def _chain_queries(batch_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert verify_chain(batch_size=batch_size, live_rows=False).ok
    return len(queries)


def test_the_chain_is_read_in_chunks_of_the_batch_size(verified):
    small, large = _chain_queries(1), _chain_queries(10_000)
    for n in range(3):
        event_record(kind=EventKind.DOWNLOAD, object_id=str(n))
    # One query per batch_size rows: three more rows cost three more queries at one row per
    # query and none at 10,000 rows per query (no query reads more than batch_size rows).
    assert _chain_queries(1) - small == 3
    assert _chain_queries(10_000) == large


def test_periodic_task_runs_full_first_then_incrementally(verified):
    assert verify_audit_chain.apply().get() is True
    modes = list(Event.objects.filter(kind=EventKind.AUDIT_VERIFIED).order_by("pk").values_list("detail__mode", flat=True))
    # The fixture's full run is recent, so the task's run is incremental; a forced full run is full.
    assert modes == ["full", "incremental"]
    assert verify_audit_chain.apply(kwargs={"full": True}).get() is True
    assert Event.objects.filter(kind=EventKind.AUDIT_VERIFIED).order_by("-pk").first().detail["mode"] == "full"


def test_command_incremental_option(verified):
    out = StringIO()
    call_command("verify_audit", "--incremental", "--batch-size", "50", stdout=out)
    assert "incremental" in out.getvalue() and "1 links" in out.getvalue()
