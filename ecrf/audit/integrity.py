"""Verification of the audit chain and, on PostgreSQL, the triggers that keep it append-only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from ecrf.audit.chain import GENESIS, row_digest
from ecrf.audit.history import chained_models
from ecrf.audit.models import ChainHead, chain_content


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


def verify_chain(*, batch_size: int = 2000) -> VerifyReport:
    """Recompute every link; report the first one that does not hold."""
    total = 0
    models_ = sorted(chained_models(), key=lambda m: m._meta.db_table)
    heads = {h.table: h for h in ChainHead.objects.all()}
    for model in models_:
        table = model._meta.db_table
        prev = GENESIS
        last_pk = None
        for row in model._base_manager.order_by("pk").iterator(chunk_size=batch_size):
            total += 1
            if row.prev_hash != prev:
                return VerifyReport(len(models_), total, BrokenLink(table, row.pk, "its link to the previous row is broken (a row was removed or reordered)"))
            if row_digest(prev, table, chain_content(row)) != row.row_hash:
                return VerifyReport(len(models_), total, BrokenLink(table, row.pk, "its content no longer matches its hash (altered)"))
            prev = row.row_hash
            last_pk = row.pk
        head = heads.get(table)
        if head is not None and (head.last_hash != prev or head.last_pk != last_pk):
            return VerifyReport(len(models_), total, BrokenLink(table, last_pk, "the chain ends before its recorded head (rows were removed)"))
    return VerifyReport(len(models_), total, None)


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ecrf_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit table %% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def install_append_only_triggers(using: str = "default") -> int:
    """PostgreSQL refuses UPDATE and DELETE on every audit table (DESIGN.md invariant 2)."""
    from django.db import connections

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
