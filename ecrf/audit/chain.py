"""Keyed hash-chaining of audit rows (ARCHITECTURE.md invariant 2).

Every audit table (the event log and each django-simple-history table) is a chain: a row's
``row_hash`` is HMAC-SHA256, keyed by ``AUDIT_HMAC_KEY``, over the previous row's hash and the
row's own canonical content. Rows get their link at insert time, in the inserting transaction,
under a lock on that table's ``ChainHead``, so that concurrent writers on PostgreSQL never fork
the chain. Changing any audited column behind the application's back breaks the link that
``verify_audit`` recomputes.

The key lives in the environment, never in the database: someone with write access to the
database and this source code still cannot recompute a valid chain after altering a row, and
cannot move a chain head back after cutting off its tail, because the head carries its own
keyed seal (``head_seal``). Plain functions, no Django: the caller passes the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
HASH_FIELDS = frozenset({"prev_hash", "row_hash"})


def canonical_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        # 1.50 and 1.5 are the same stored value; normalise so the database round trip agrees.
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    return str(value)


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    if not key:
        raise ValueError("The audit chain needs a non-empty HMAC key (AUDIT_HMAC_KEY).")
    message = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def row_digest(prev_hash: str, table: str, content: dict[str, Any], *, key: bytes) -> str:
    """The link of one audit row: HMAC-SHA256 over the previous link, the table and the row."""
    return _mac(key, {"kind": "row", "prev": prev_hash, "table": table,
                      "row": {k: canonical_value(v) for k, v in sorted(content.items())}})


def head_seal(table: str, last_pk: int | None, last_hash: str, *, key: bytes) -> str:
    """The seal of a chain head. Its own domain ("head"), so no row link can serve as a seal:
    moving a head back to an earlier row (to hide a cut-off tail) needs the key."""
    return _mac(key, {"kind": "head", "table": table, "last_pk": last_pk, "last_hash": last_hash})
