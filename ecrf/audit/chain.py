"""Hash-chaining of audit rows (DESIGN.md invariant 2).

Every audit table (the event log and each django-simple-history table) is a chain: a row's
``row_hash`` is SHA-256 over the previous row's hash and the row's own canonical content. Rows
get their link at insert time, in the inserting transaction, under a lock on that table's
``ChainHead``, so that concurrent writers on PostgreSQL never fork the chain. Changing any
audited column behind the application's back breaks the link that ``verify_audit`` recomputes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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


def row_digest(prev_hash: str, table: str, content: dict[str, Any]) -> str:
    payload = json.dumps(
        {"prev": prev_hash, "table": table, "row": {k: canonical_value(v) for k, v in sorted(content.items())}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode("ascii")).hexdigest()
