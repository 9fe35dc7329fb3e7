"""Verification of the audit trail and, on PostgreSQL, the triggers that keep it append-only.

Three checks, each against a different tampering (ARCHITECTURE.md invariant 2):
- every audit table's keyed chain (an altered or removed row; a chain recomputed without the key);
- every chain head's keyed seal (a tail cut off and its head moved back);
- every live audited row against its latest history row (a clinical row changed, inserted or
  deleted by SQL, which writes no history at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, models
from django.db.models import Exists, Max, OuterRef

from ecrf.audit.chain import GENESIS, canonical_value, row_digest
from ecrf.audit.history import chained_models
from ecrf.audit.models import ChainHead, Event, EventKind, audit_key, chain_content


@dataclass(frozen=True)
class BrokenLink:
    table: str
    pk: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.table} row {self.pk}: {self.problem}"


# A verified position of one chain: the pk of its last verified row and that row's link.
Position = tuple[int, str]


@dataclass(frozen=True)
class VerifyReport:
    tables: int
    rows: int
    broken: BrokenLink | None
    # Rows read by the chain walk and by the live-row check (what an incremental run saves).
    chain_rows: int = 0
    live_rows: int = 0
    incremental: bool = False
    # Where each chain ended, verified: the next incremental run starts there.
    positions: dict[str, Position] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.broken is None


def _head_of(table: str) -> ChainHead | None:
    return ChainHead.objects.filter(table=table).first()


def _chain_of(model: type[models.Model], key: bytes, batch_size: int,
              start: Position | None) -> tuple[int, BrokenLink | None, Position | None]:
    """Recompute one table's keyed chain, from ``start`` (a verified position) or from the
    genesis, and check it ends exactly at its sealed head.

    Bounded memory: keyset pagination, ``batch_size`` rows per query (``pk > last LIMIT n``),
    never the whole table. The walk stops at the head read before it, so rows committed by
    concurrent writers during the walk are not mistaken for tampering; rows found past a head
    that has not moved were written without the head's lock (behind the application)."""
    table = model._meta.db_table
    prev, last_pk, rows = GENESIS, None, 0
    if start is not None:
        start_pk, start_hash = start
        stored = model._base_manager.filter(pk=start_pk).values_list("row_hash", flat=True).first()
        if stored != start_hash:
            return rows, BrokenLink(table, start_pk, "the last verified row was altered or removed since it was verified"), None
        prev, last_pk = start_hash, start_pk
    head = _head_of(table)
    while True:
        bound = head.last_pk if head is not None else None
        while bound is not None and (last_pk is None or last_pk < bound):
            page = model._base_manager.order_by("pk").filter(pk__lte=bound)
            if last_pk is not None:
                page = page.filter(pk__gt=last_pk)
            chunk = list(page[:batch_size])
            if not chunk:
                break
            for row in chunk:
                rows += 1
                if row.prev_hash != prev:
                    return rows, BrokenLink(table, row.pk, "its link to the previous row is broken (a row was removed or reordered)"), None
                if row_digest(prev, table, chain_content(row), key=key) != row.row_hash:
                    return rows, BrokenLink(table, row.pk, "its content no longer matches its keyed hash (altered)"), None
                prev, last_pk = row.row_hash, row.pk
        beyond = model._base_manager.all() if last_pk is None else model._base_manager.filter(pk__gt=last_pk)
        if head is not None:
            if not head.seal_holds():
                return rows, BrokenLink(table, head.last_pk, "its chain head does not match its keyed seal (the head was moved)"), None
            if head.last_hash != prev or head.last_pk != last_pk:
                return rows, BrokenLink(table, last_pk, "the chain ends before its recorded head (rows were removed)"), None
        first_beyond = beyond.order_by("pk").values_list("pk", flat=True).first()
        if first_beyond is None:
            break
        # Rows after the head: a writer that committed since the head was read has moved it.
        moved = _head_of(table)
        if moved is None or (head is not None and (moved.last_pk, moved.last_hash) == (head.last_pk, head.last_hash)):
            problem = ("the table has rows but no chain head (the head was removed)" if moved is None
                       else "rows follow the chain head (written without the chain's lock)")
            return rows, BrokenLink(table, first_beyond, problem), None
        head = moved
    if last_pk is None:
        return rows, None, None
    return rows, None, (last_pk, prev)


def audited_pairs() -> list[tuple[type[models.Model], type[models.Model]]]:
    """(live model, history model) for every model with ``audited_history()`` (CRFs included),
    found through the chained history tables, in table order."""
    pairs = []
    for history in chained_models():
        live = getattr(history, "instance_type", None)
        if live is not None and getattr(history, "tracked_fields", None) and not live._meta.abstract:
            pairs.append((live, history))
    return sorted(pairs, key=lambda pair: pair[0]._meta.db_table)


def _fields_of(live: type[models.Model], history: type[models.Model]) -> tuple[str, list[str]]:
    pk_name = live._meta.pk.attname
    return pk_name, [f.attname for f in history.tracked_fields if f.attname != pk_name]


def _compare(live: type[models.Model], history: type[models.Model], ids: list[Any],
             live_chunk: list[dict[str, Any]] | None = None) -> BrokenLink | None:
    """The live rows ``ids`` against their latest history rows: three queries at most."""
    table = live._meta.db_table
    pk_name, fields = _fields_of(live, history)
    if live_chunk is None:
        live_chunk = list(live._base_manager.filter(**{f"{pk_name}__in": ids}).order_by(pk_name).values(pk_name, *fields))
    latest = (history._base_manager.filter(**{f"{pk_name}__in": ids}).values(pk_name)
              .annotate(latest=Max("history_id")).values_list("latest", flat=True))
    recorded = {h[pk_name]: h for h in history._base_manager.filter(history_id__in=list(latest))
                .values(pk_name, "history_type", *fields)}
    for live_row in live_chunk:
        pk = live_row[pk_name]
        past = recorded.get(pk)
        if past is None:
            return BrokenLink(table, pk, "the live row has no history row (written behind the application)")
        if past["history_type"] == "-":
            return BrokenLink(table, pk, "the live row exists but its history says it was deleted")
        for name in fields:
            if canonical_value(live_row[name]) != canonical_value(past[name]):
                return BrokenLink(table, pk, f"field {name} differs from its latest history row "
                                             "(changed behind the application)")
    present = {row[pk_name] for row in live_chunk}
    for pk in sorted(set(ids) - present, key=str):
        past = recorded.get(pk)
        if past is not None and past["history_type"] != "-":
            return BrokenLink(table, pk, "the live row is gone but its history says it exists (deleted behind the application)")
    return None


def _live_rows_of(live: type[models.Model], history: type[models.Model], batch_size: int) -> tuple[int, BrokenLink | None]:
    """Each live row must equal its latest history row in every audited field.

    A change made behind the application (SQL UPDATE, INSERT or DELETE on the live table) writes
    no history row, so the live row and its history disagree. Walks the live table in pk order,
    ``batch_size`` rows at a time (bounded memory): per chunk, one query for the live rows, one
    for the latest history id of each, one for those history rows."""
    table = live._meta.db_table
    pk_name, fields = _fields_of(live, history)
    rows, after = 0, None
    while True:
        chunk_qs = live._base_manager.order_by(pk_name)
        if after is not None:
            chunk_qs = chunk_qs.filter(**{f"{pk_name}__gt": after})
        chunk = list(chunk_qs.values(pk_name, *fields)[:batch_size])
        if not chunk:
            break
        rows += len(chunk)
        ids = [r[pk_name] for r in chunk]
        broken = _compare(live, history, ids, chunk)
        if broken is not None:
            return rows, broken
        after = ids[-1]
    # A live row removed behind the application: its history says it exists, the table has it not.
    deleted = history._base_manager.filter(history_type="-").values(pk_name)
    vanished = (history._base_manager.exclude(**{f"{pk_name}__in": deleted})
                .filter(~Exists(live._base_manager.filter(pk=OuterRef(pk_name))))
                .order_by(pk_name).values_list(pk_name, flat=True).first())
    if vanished is not None:
        return rows, BrokenLink(table, vanished, "the live row is gone but its history says it exists (deleted behind the application)")
    return rows, None


def _live_rows_since(live: type[models.Model], history: type[models.Model], after: int,
                     batch_size: int) -> tuple[int, BrokenLink | None]:
    """The incremental live-row check: only the live rows whose history grew after the verified
    position ``after`` (the rows the application wrote since), ``batch_size`` history rows at a
    time. A live row changed by SQL with no new history is caught by the next full run."""
    pk_name, _ = _fields_of(live, history)
    rows = 0
    while True:
        chunk = list(history._base_manager.filter(history_id__gt=after).order_by("history_id")
                     .values_list("history_id", pk_name)[:batch_size])
        if not chunk:
            return rows, None
        ids = list(dict.fromkeys(object_pk for _, object_pk in chunk))
        rows += len(ids)
        broken = _compare(live, history, ids)
        if broken is not None:
            return rows, broken
        after = chunk[-1][0]


def latest_checkpoint() -> dict[str, Position] | None:
    """The positions recorded by the last successful verification, if its event is authentic.

    The checkpoint is an ``AUDIT_VERIFIED`` event of the append-only, chained event log; its own
    keyed link is recomputed here, so positions forged or edited without the key are refused
    (and the next run is a full one)."""
    event = (Event.objects.filter(kind=EventKind.AUDIT_VERIFIED, detail__has_key="checkpoint")
             .order_by("-pk").first())
    if event is None or event.detail.get("ok") is not True:
        return None
    digest = row_digest(event.prev_hash, Event._meta.db_table, chain_content(event), key=audit_key())
    if digest != event.row_hash:
        return None
    return {table: (int(pk), str(link)) for table, (pk, link) in event.detail["checkpoint"].items()}


def verify_chain(*, batch_size: int = 2000, live_rows: bool = True,
                 since: dict[str, Position] | None = None) -> VerifyReport:
    """Recompute every keyed link and every head seal; then check that each live row equals its
    latest history row. Report the first problem found (table, pk, what).

    With ``since`` (positions verified earlier, see ``latest_checkpoint``), each chain is walked
    only after its verified position and only the live rows with new history are compared: the
    cost follows what was written since, not the size of the trail. A row altered before a
    verified position is found by a full run (``since=None``) only."""
    key = audit_key()
    since = since or {}
    chain_total = live_total = 0
    models_ = sorted(chained_models(), key=lambda m: m._meta.db_table)
    positions: dict[str, Position] = {}

    def report(broken: BrokenLink | None) -> VerifyReport:
        return VerifyReport(len(models_), chain_total + live_total, broken, chain_total, live_total,
                            bool(since), positions if broken is None else {})

    for model in models_:
        table = model._meta.db_table
        rows, broken, position = _chain_of(model, key, batch_size, since.get(table))
        chain_total += rows
        if broken is not None:
            return report(broken)
        if position is not None:
            positions[table] = position
    known = {m._meta.db_table for m in models_}
    stray = (ChainHead.objects.exclude(table__in=known).exclude(last_pk=None)
             .order_by("table").first())
    if stray is not None:
        return report(BrokenLink(stray.table, stray.last_pk, "a chain head names a table that has no audit model"))
    if live_rows:
        for live, history in audited_pairs():
            start = since.get(history._meta.db_table)
            if start is None:
                rows, broken = _live_rows_of(live, history, batch_size)
            else:
                rows, broken = _live_rows_since(live, history, start[0], batch_size)
            live_total += rows
            if broken is not None:
                return report(broken)
    return report(None)


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ecrf_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit table %% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def install_append_only_triggers(using: str = "default") -> int:
    """PostgreSQL refuses UPDATE and DELETE on every audit table (ARCHITECTURE.md invariant 2)."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return 0
    count = 0
    with conn.cursor() as cursor:
        cursor.execute(_PG_FUNCTION.replace("%%", "%"))
        for model in chained_models():
            table = model._meta.db_table
            name = f"{table}_append_only"[:63]
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
            cursor.execute(
                f'CREATE TRIGGER "{name}" BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION ecrf_audit_append_only()"
            )
            count += 1
    return count


__all__ = ["verify_chain", "latest_checkpoint", "install_append_only_triggers", "VerifyReport", "BrokenLink", "connection"]
