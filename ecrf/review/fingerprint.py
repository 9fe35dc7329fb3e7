"""The SHA-256 fingerprints that bind a verification or a signature to the exact data it covers
(21 CFR 11.70: a signature is linked to its record so that it cannot be transferred or survive a
change unnoticed). Pure: plain values in, hex digests out; no Django.

A form's values are its user-entered fields (``FormSpec.fields``) and its entry status, rendered
as canonical JSON (sorted keys, no whitespace, dates and times in ISO 8601, times in UTC,
decimals as their exact text), so the same data always gives the same digest on any database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ecrf.audit.chain import canonical_value


def canonical(values: Mapping[str, Any]) -> str:
    # One definition of "the same value" for the audit chain and the fingerprints: a value the
    # chain hashes alike, a signature binds alike.
    return json.dumps({k: canonical_value(v) for k, v in values.items()}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def values_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of one form's values (or of a subset of its fields)."""
    return hashlib.sha256(canonical(values).encode()).hexdigest()


def manifest_hash(records: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 over the records a signature covers: each ``{key, id, version, hash}``, in a fixed order."""
    ordered = sorted(({"key": r["key"], "id": int(r["id"]), "version": int(r["version"]), "hash": r["hash"]} for r in records),
                     key=lambda r: (r["key"], r["id"]))
    return hashlib.sha256(json.dumps(ordered, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
