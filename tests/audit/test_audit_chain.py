from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError, InternalError

from ecrf.audit.integrity import verify_chain
from ecrf.audit.models import ChainHead, Event, EventKind
from ecrf.audit.services import event_record
from ecrf.audit.tasks import verify_audit_chain
from ecrf.crf.services import form_create, form_update
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_history(coordinator, participant_a):
    form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})
    form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 90}, version=1, reason="Typo")
    return form


def test_chain_is_intact_after_normal_use(some_history):
    report = verify_chain()
    assert report.ok and report.rows > 5
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def _tamper(sql: str, params: list) -> None:
    """What a database administrator could do: on PostgreSQL, switch the triggers off first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            table = sql.split()[2] if sql.startswith("DELETE") else sql.split()[1]
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            cursor.execute(sql, params)


def test_verify_audit_finds_a_row_altered_behind_the_application(some_history):
    table = VITALS.model.history.model._meta.db_table
    record = some_history.history.order_by("history_id").first()
    _tamper(f"UPDATE {table} SET heart_rate = %s WHERE history_id = %s", [150, record.history_id])
    report = verify_chain()
    assert not report.ok
    assert report.broken.table == table and report.broken.pk == record.history_id
    with pytest.raises(CommandError, match=f"{table} row {record.history_id}"):
        call_command("verify_audit", stdout=StringIO())


def test_verify_audit_finds_a_deleted_row(some_history):
    table = Event._meta.db_table
    event_record(kind=EventKind.DOWNLOAD, detail="x")
    event_record(kind=EventKind.DOWNLOAD, detail="y")
    first = Event.objects.order_by("pk").first()
    _tamper(f"DELETE FROM {table} WHERE id = %s", [first.pk])
    report = verify_chain()
    assert not report.ok and report.broken.table == table


def test_verify_audit_finds_a_removed_last_row(some_history):
    event_record(kind=EventKind.DOWNLOAD)
    last = Event.objects.order_by("pk").last()
    _tamper(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [last.pk])
    assert not verify_chain().ok


def test_periodic_task_records_the_verification(some_history):
    assert verify_audit_chain.apply().get() is True
    assert Event.objects.filter(kind=EventKind.AUDIT_VERIFIED, detail__ok=True).exists()


def test_audit_rows_refuse_update_and_delete_in_the_application(some_history):
    event = event_record(kind=EventKind.DOWNLOAD)
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_chain_heads_track_every_table(some_history):
    assert ChainHead.objects.filter(table=VITALS.model.history.model._meta.db_table).exists()


@pytest.mark.postgres
def test_postgres_triggers_refuse_update_and_delete(some_history):
    table = VITALS.model.history.model._meta.db_table
    for sql in (f"UPDATE {table} SET heart_rate = 1", f"DELETE FROM {table}",
                f"UPDATE {Event._meta.db_table} SET reason = 'x'"):
        with pytest.raises((DatabaseError, InternalError), match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
