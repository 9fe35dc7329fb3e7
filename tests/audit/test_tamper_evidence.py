"""The four tamperings of an audit trail that a person with database access (and this source
code, but not the environment's AUDIT_HMAC_KEY) could try; ``verify_audit`` detects each."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ecrf.audit.chain import GENESIS, head_seal, row_digest
from ecrf.audit.integrity import audited_pairs, verify_chain
from ecrf.audit.models import ChainHead, Event, EventKind, audit_key, chain_content
from ecrf.audit.services import event_record
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create, form_update
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db

# What an attacker reading the source would try as the key: the development default in settings.
SOURCE_DEFAULT_KEY = b"insecure-local-development-audit-key"


@pytest.fixture
def vitals(coordinator, participant_a):
    form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})
    return form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 90}, version=1, reason="Typo")


def _sql(table: str, sql: str, params: list) -> None:
    """Raw SQL as a database administrator would run it; on PostgreSQL the append-only
    triggers are switched off first (an owner can do that)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')


def test_intact_trail_verifies_with_the_live_row_check(vitals):
    report = verify_chain()
    assert report.ok, report.broken
    assert any(live is VITALS.model for live, _ in audited_pairs())
    assert any(live is Participant for live, _ in audited_pairs())


def test_1_sql_update_of_a_live_clinical_row_is_detected(vitals):
    table = VITALS.model._meta.db_table
    _sql(table, f'UPDATE "{table}" SET heart_rate = %s WHERE id = %s', [60, vitals.pk])
    report = verify_chain()
    assert not report.ok
    assert (report.broken.table, report.broken.pk) == (table, vitals.pk)
    assert "heart_rate" in report.broken.problem
    with pytest.raises(CommandError, match=f"{table} row {vitals.pk}: field heart_rate"):
        call_command("verify_audit", stdout=StringIO())


def _recompute_chain(model, key: bytes, alter: dict) -> None:
    """The attack on the chain: alter the first history row, then recompute every link and the
    head with the project's own functions and ``key``."""
    table = model._meta.db_table
    rows = list(model._base_manager.order_by("pk"))
    first = rows[0]
    assignments = ", ".join(f'"{k}" = %s' for k in alter)
    _sql(table, f'UPDATE "{table}" SET {assignments} WHERE history_id = %s', [*alter.values(), first.pk])
    prev = GENESIS
    for row in model._base_manager.order_by("pk"):
        digest = row_digest(prev, table, chain_content(row), key=key)
        _sql(table, f'UPDATE "{table}" SET prev_hash = %s, row_hash = %s WHERE history_id = %s', [prev, digest, row.pk])
        prev = digest
    head = ChainHead.objects.get(table=table)
    ChainHead.objects.filter(table=table).update(last_hash=prev, seal=head_seal(table, head.last_pk, prev, key=key))


def test_2_a_history_row_altered_and_the_chain_recomputed_without_the_key_is_detected(vitals):
    history = VITALS.model.history.model
    first = history._base_manager.order_by("pk").first()
    _recompute_chain(history, SOURCE_DEFAULT_KEY, {"heart_rate": 150})
    report = verify_chain()
    assert not report.ok
    assert (report.broken.table, report.broken.pk) == (history._meta.db_table, first.pk)
    assert "keyed hash" in report.broken.problem


def test_2_control_only_the_environment_key_recomputes_a_valid_chain(vitals):
    # The same forgery made with the real key passes the chain check: what protects the trail is
    # that the key is in the environment and not in the database or the source.
    history = VITALS.model.history.model
    _recompute_chain(history, audit_key(), {"notes": "forged"})
    assert verify_chain(live_rows=False).ok


def test_3_a_truncated_tail_with_its_head_moved_back_is_detected(vitals):
    for n in range(3):
        event_record(kind=EventKind.DOWNLOAD, object_id=str(n))
    table = Event._meta.db_table
    keep = list(Event.objects.order_by("pk"))[-3]
    _sql(table, f'DELETE FROM "{table}" WHERE id > %s', [keep.pk])
    ChainHead.objects.filter(table=table).update(last_pk=keep.pk, last_hash=keep.row_hash)
    report = verify_chain()
    assert not report.ok
    assert report.broken.table == table and "seal" in report.broken.problem


def test_3_a_removed_chain_head_is_detected(vitals):
    table = VITALS.model.history.model._meta.db_table
    ChainHead.objects.filter(table=table).delete()
    report = verify_chain()
    assert not report.ok and report.broken.table == table and "no chain head" in report.broken.problem


def test_4_a_live_row_inserted_without_history_is_detected(vitals, participant_a):
    table = Participant._meta.db_table
    _sql(table, f'INSERT INTO "{table}" (site_id, screening_number, emergency_unblinded, version, created_at) '
                "VALUES (%s, %s, %s, %s, %s)", [participant_a.site_id, "A-SQL-1", False, 1, "2026-11-20 10:00:00+00:00"])
    inserted = Participant.objects.get(screening_number="A-SQL-1")
    report = verify_chain()
    assert not report.ok
    assert (report.broken.table, report.broken.pk) == (table, inserted.pk)
    assert "no history row" in report.broken.problem


def test_4_a_live_row_deleted_behind_the_application_is_detected(vitals):
    table = VITALS.model._meta.db_table
    _sql(table, f'DELETE FROM "{table}" WHERE id = %s', [vitals.pk])
    report = verify_chain()
    assert not report.ok
    assert (report.broken.table, report.broken.pk) == (table, vitals.pk) and "gone" in report.broken.problem


def test_live_row_check_walks_in_chunks(vitals, make_participant):
    # Several chunks of one row each: the check must carry on across chunk boundaries.
    extra = [make_participant() for _ in range(3)]
    assert verify_chain(batch_size=1).ok
    table = Participant._meta.db_table
    _sql(table, f'UPDATE "{table}" SET emergency_unblinded = %s WHERE id = %s', [True, extra[-1].pk])
    report = verify_chain(batch_size=1)
    assert (report.broken.table, report.broken.pk) == (table, extra[-1].pk)
    assert "emergency_unblinded" in report.broken.problem


def test_the_chain_needs_a_key():
    with pytest.raises(ValueError, match="AUDIT_HMAC_KEY"):
        row_digest(GENESIS, "t", {"a": 1}, key=b"")
