"""Verification of the audit trail and, on PostgreSQL, the triggers that keep it append-only.

Three checks, each against a different tampering (ARCHITECTURE.md invariant 2):
- every audit table's keyed chain (an altered or removed row; a chain recomputed without the key);
- every chain head's keyed seal (a tail cut off and its head moved back);
- every live audited row against its latest history row (a clinical row changed, inserted or
  deleted by SQL, which writes no history at all).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Exists, Max, OuterRef
from django.db import connections

from ecrf.audit.chain import GENESIS, canonical_value, row_digest
from ecrf.audit.history import chained_models
from ecrf.audit.models import ChainHead, audit_key, chain_content


@dataclass(frozen=True)
class BrokenLink:
    table: str
    pk: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.table} row {self.pk}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    tables: int
    rows: int
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _chain_of(model: type[models.Model], heads: dict[str, ChainHead], key: bytes,
              batch_size: int) -> tuple[int, BrokenLink | None]:
    """Recompute one table's keyed chain and check it ends exactly at its sealed head."""
    table = model._meta.db_table
    prev, last_pk, rows = GENESIS, None, 0
    for row in model._base_manager.order_by("pk").iterator(chunk_size=batch_size):
        rows += 1
        if row.prev_hash != prev:
            return rows, BrokenLink(table, row.pk, "its link to the previous row is broken (a row was removed or reordered)")
        if row_digest(prev, table, chain_content(row), key=key) != row.row_hash:
            return rows, BrokenLink(table, row.pk, "its content no longer matches its keyed hash (altered)")
        prev, last_pk = row.row_hash, row.pk
    head = heads.get(table)
    if head is None:
        if rows:
            return rows, BrokenLink(table, last_pk, "the table has rows but no chain head (the head was removed)")
        return rows, None
    if not head.seal_holds():
        return rows, BrokenLink(table, head.last_pk, "its chain head does not match its keyed seal (the head was moved)")
    if head.last_hash != prev or head.last_pk != last_pk:
        return rows, BrokenLink(table, last_pk, "the chain ends before its recorded head (rows were removed)")
    return rows, None


def audited_pairs() -> list[tuple[type[models.Model], type[models.Model]]]:
    """(live model, history model) for every model with ``audited_history()`` (CRFs included),
    found through the chained history tables, in table order."""
    pairs = []
    for history in chained_models():
        live = getattr(history, "instance_type", None)
        if live is not None and getattr(history, "tracked_fields", None) and not live._meta.abstract:
            pairs.append((live, history))
    return sorted(pairs, key=lambda pair: pair[0]._meta.db_table)


def _live_rows_of(live: type[models.Model], history: type[models.Model], batch_size: int) -> tuple[int, BrokenLink | None]:
    """Each live row must equal its latest history row in every audited field.

    A change made behind the application (SQL UPDATE, INSERT or DELETE on the live table) writes
    no history row, so the live row and its history disagree. Walks the live table in pk order,
    ``batch_size`` rows at a time (bounded memory): per chunk, one query for the live rows, one
    for the latest history id of each, one for those history rows."""
    table = live._meta.db_table
    pk_name = live._meta.pk.attname
    fields = [f.attname for f in history.tracked_fields if f.attname != pk_name]
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
        latest = (history._base_manager.filter(**{f"{pk_name}__in": ids}).values(pk_name)
                  .annotate(latest=Max("history_id")).values_list("latest", flat=True))
        recorded = {h[pk_name]: h for h in history._base_manager.filter(history_id__in=list(latest))
                    .values(pk_name, "history_type", *fields)}
        for live_row in chunk:
            pk = live_row[pk_name]
            past = recorded.get(pk)
            if past is None:
                return rows, BrokenLink(table, pk, "the live row has no history row (written behind the application)")
            if past["history_type"] == "-":
                return rows, BrokenLink(table, pk, "the live row exists but its history says it was deleted")
            for name in fields:
                if canonical_value(live_row[name]) != canonical_value(past[name]):
                    return rows, BrokenLink(table, pk, f"field {name} differs from its latest history row "
                                                       "(changed behind the application)")
        after = ids[-1]
    # A live row removed behind the application: its history says it exists, the table has it not.
    deleted = history._base_manager.filter(history_type="-").values(pk_name)
    vanished = (history._base_manager.exclude(**{f"{pk_name}__in": deleted})
                .filter(~Exists(live._base_manager.filter(pk=OuterRef(pk_name))))
                .order_by(pk_name).values_list(pk_name, flat=True).first())
    if vanished is not None:
        return rows, BrokenLink(table, vanished, "the live row is gone but its history says it exists (deleted behind the application)")
    return rows, None


def verify_chain(*, batch_size: int = 2000, live_rows: bool = True) -> VerifyReport:
    """Recompute every keyed link and every head seal; then check that each live row equals its
    latest history row. Report the first problem found (table, pk, what)."""
    key = audit_key()
    total = 0
    models_ = sorted(chained_models(), key=lambda m: m._meta.db_table)
    heads = {h.table: h for h in ChainHead.objects.all()}
    for model in models_:
        rows, broken = _chain_of(model, heads, key, batch_size)
        total += rows
        if broken is not None:
            return VerifyReport(len(models_), total, broken)
    known = {m._meta.db_table for m in models_}
    for table, head in sorted(heads.items()):
        if table not in known and head.last_pk is not None:
            return VerifyReport(len(models_), total, BrokenLink(table, head.last_pk, "a chain head names a table that has no audit model"))
    if live_rows:
        for live, history in audited_pairs():
            rows, broken = _live_rows_of(live, history, batch_size)
            total += rows
            if broken is not None:
                return VerifyReport(len(models_), total, broken)
    return VerifyReport(len(models_), total, None)


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


__all__ = ["verify_chain", "install_append_only_triggers", "VerifyReport", "BrokenLink", "connection"]
