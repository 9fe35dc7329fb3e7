"""The tabular parts of a package: ``crf/`` (a CSV and a Parquet file per dataset),
``dictionary.csv`` and ``audit/`` (every history table and the event log, set-based).

Every row is read as it stood at the package's time (``as_of``), from the append-only history
tables: the latest history row of each record at or before that time. So a package of a lock is
the same whatever happened after the lock (safety reporting goes on under a lock, downloads add
events), and a data cut is a true snapshot of a study still running. Rows are read in pages of
primary keys (``PAGE``), never the whole study at once; rows, columns and files are in a fixed
order, and values are written in one canonical text form, so the bytes depend on the data only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import models

from ecrf.audit.models import Event, EventKind
from ecrf.crf.datasets import UNBLINDED_APPS, Dataset, unblinded_tables
from ecrf.exports.sections import PackageContext, PackageSink

PAGE = 2000
# The columns simple-history adds to a history table, and the audit chain's own.
HISTORY_COLUMNS = ("history_id", "history_date", "history_type", "history_user_id", "history_change_reason")
CHAIN_COLUMNS = ("prev_hash", "row_hash")
_SKIP = frozenset(HISTORY_COLUMNS) | frozenset(CHAIN_COLUMNS) | {"history_relation"}
# A unit written after a numeric field's label, e.g. "volume given (mL)".
_UNIT_IN_LABEL = re.compile(r"\(([^()]{1,20})\)\s*$")
PARQUET_COMPRESSION = "snappy"


@dataclass(frozen=True)
class Column:
    name: str
    attname: str  # the history row's attribute (for a label column: the coded column's)
    kind: str  # int, float, decimal, bool, date, datetime, text, json
    label: str
    unit: str = ""
    codes: tuple[tuple[str, str], ...] = ()  # (code, label) of a coded field
    is_label: bool = False  # the label of the coded value next to it
    precision: tuple[int, int] | None = None  # (digits, places) of a decimal

    def codelist(self) -> str:
        return "; ".join(f"{c}={lbl}" for c, lbl in self.codes)


def _kind(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return "int"
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.FloatField):
        return "float"
    if isinstance(field, models.IntegerField | models.AutoField | models.BigAutoField):
        return "int"
    if isinstance(field, models.JSONField):
        return "json"
    return "text"


def data_fields(history_model: type[models.Model]) -> list[models.Field]:
    """The record's own columns as its history keeps them (a column left out of the history,
    such as pharmacovigilance's outcome, is never exported), in declaration order."""
    return [f for f in history_model._meta.concrete_fields if f.attname not in _SKIP]


def columns_of(ds: Dataset) -> list[Column]:
    fields = data_fields(ds.history_model)
    names = {f.attname for f in fields}
    out: list[Column] = []
    for f in fields:
        kind = _kind(f)
        unit = ""
        if kind in ("int", "float", "decimal") and not isinstance(f, models.ForeignKey):
            if f"{f.name}_unit" in names:
                unit = f"see {f.name}_unit"
            elif m := _UNIT_IN_LABEL.search(str(f.verbose_name)):
                unit = m.group(1)
        codes = tuple((str(c), str(lbl)) for c, lbl in f.flatchoices) if f.choices else ()
        precision = (f.max_digits, f.decimal_places) if kind == "decimal" else None
        out.append(Column(f.attname, f.attname, kind, str(f.verbose_name), unit, codes, precision=precision))
        if codes:
            out.append(Column(f"{f.attname}_label", f.attname, "text", f"{f.verbose_name} (label)", codes=codes, is_label=True))
    return out


# --- canonical values ----------------------------------------------------------------------------

def iso(value: datetime) -> str:
    """UTC, ISO 8601 with a Z and microseconds only when there are some."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _text_bool(value: bool) -> str:
    return "true" if value else "false"


def _text_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The canonical text of each value type, looked up by exact type (the per-cell hot path).
_TEXT = {str: lambda v: v, int: str, float: repr, bool: _text_bool, datetime: iso, date: date.isoformat,
         Decimal: lambda v: format(v, "f"), dict: _text_json, list: _text_json}


def text_value(value: Any) -> str:
    if value is None:
        return ""
    convert = _TEXT.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, bool):
        return _text_bool(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):
        return _text_json(value)
    return str(value)


def cell(col: Column, row: dict[str, Any]) -> str:
    value = row[col.attname]
    if col.is_label:
        return dict(col.codes).get(str(value), "") if value not in (None, "") else ""
    return text_value(value)


def _arrow_type(col: Column) -> pa.DataType:
    if col.kind == "int":
        return pa.int64()
    if col.kind == "bool":
        return pa.bool_()
    if col.kind == "datetime":
        return pa.timestamp("us", tz="UTC")
    if col.kind == "date":
        return pa.date32()
    if col.kind == "decimal" and col.precision and col.precision[0]:
        return pa.decimal128(col.precision[0], col.precision[1])
    if col.kind == "float":
        return pa.float64()
    return pa.string()


def arrow_schema(cols: list[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _arrow_type(c)) for c in cols])


def _arrow_value(col: Column, row: dict[str, Any]) -> Any:
    if col.is_label:
        return cell(col, row)
    value = row[col.attname]
    if value is None:
        return None
    if col.kind in ("text", "json") or (col.kind == "decimal" and not col.precision):
        return text_value(value)
    if col.kind == "datetime":
        return value.astimezone(UTC)
    return value


# --- reading as of a time, in pages --------------------------------------------------------------

def _scope(ds: Dataset, participant_ids: tuple[int, ...] | None) -> dict[str, Any]:
    return {} if participant_ids is None else {f"{ds.participant_path}__in": participant_ids}


def rows_as_of(ds: Dataset, as_of: datetime, participant_ids: tuple[int, ...] | None,
               fields: Iterable[str], page: int = PAGE) -> Iterator[list[dict[str, Any]]]:
    """Pages of each record's latest history row at or before ``as_of``, by ascending id.
    ``participant_ids`` None means every participant (a study lock)."""
    return latest_as_of(ds.history_model, as_of, _scope(ds, participant_ids), fields, page)


def latest_as_of(history_model: type[models.Model], as_of: datetime, scope: dict[str, Any],
                 fields: Iterable[str], page: int = PAGE) -> Iterator[list[dict[str, Any]]]:
    """Pages of the latest history row of each record at or before ``as_of`` (any audited table).

    The ids are paged from the record's own table (its primary-key index), then the history rows
    of that page's ids are read by their id index and the last one at or before ``as_of`` kept:
    two indexed queries per page, whatever the size of the table. A record created after
    ``as_of`` has no such history row and is left out."""
    current = history_model.instance_type._default_manager  # type: ignore[attr-defined]
    hist = history_model._default_manager
    names = list(dict.fromkeys(["id", "history_id", "history_type", *fields]))
    last = None
    while True:
        qs = current.filter(**scope)
        if last is not None:
            qs = qs.filter(pk__gt=last)
        ids = list(qs.order_by("pk").values_list("pk", flat=True)[:page])
        if not ids:
            return
        latest: dict[Any, dict[str, Any]] = {}
        for row in hist.filter(id__in=ids, history_date__lte=as_of).order_by("id", "history_id").values(*names):
            latest[row["id"]] = row
        rows = [latest[i] for i in ids if i in latest and latest[i]["history_type"] != "-"]
        if rows:
            yield rows
        last = ids[-1]


def history_pages(ds: Dataset, as_of: datetime, participant_ids: tuple[int, ...] | None,
                  fields: Iterable[str], page: int = PAGE) -> Iterator[list[dict[str, Any]]]:
    """Every history row at or before ``as_of``, by ascending history id, in pages."""
    hist = ds.history_model._default_manager
    scope = _scope(ds, participant_ids)
    last = 0
    while True:
        rows = list(hist.filter(history_date__lte=as_of, history_id__gt=last, **scope)
                    .order_by("history_id").values(*fields)[:page])
        if not rows:
            return
        yield rows
        last = rows[-1]["history_id"]


# --- writers -------------------------------------------------------------------------------------

class CsvOut:
    """A CSV writer over a binary stream: UTF-8, newline line ends, the header first."""

    def __init__(self, stream: BinaryIO, header: list[str]) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text, lineterminator="\n")
        self.writer.writerow(header)

    def rows(self, rows: Iterable[list[str]]) -> None:
        self.writer.writerows(rows)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def write_dataset(ds: Dataset, ctx: PackageContext, sink: PackageSink, participant_ids: tuple[int, ...] | None) -> int:
    """``crf/<key>.csv`` and ``crf/<key>.parquet`` as of the package's time; returns the row count."""
    cols = columns_of(ds)
    attnames = list(dict.fromkeys(c.attname for c in cols))
    schema = arrow_schema(cols)
    count = 0
    with sink.open(f"crf/{ds.key}.csv") as csv_stream, sink.open(f"crf/{ds.key}.parquet") as pq_stream:
        out = CsvOut(csv_stream, [c.name for c in cols])
        writer = pq.ParquetWriter(pq_stream, schema, compression=PARQUET_COMPRESSION)
        for rows in rows_as_of(ds, ctx.as_of, participant_ids, attnames):
            out.rows([cell(c, r) for c in cols] for r in rows)
            writer.write_table(pa.table({c.name: pa.array([_arrow_value(c, r) for r in rows], type=_arrow_type(c)) for c in cols},
                                        schema=schema))
            count += len(rows)
        writer.close()
        out.close()
    return count


def write_dictionary(dsets: list[Dataset], sink: PackageSink) -> None:
    with sink.open("dictionary.csv") as stream:
        out = CsvOut(stream, ["dataset", "dataset_label", "file", "variable", "label", "type", "unit", "codelist"])
        for ds in dsets:
            out.rows([ds.key, ds.label, f"crf/{ds.key}.csv", c.name, c.label, c.kind, c.unit, c.codelist()]
                     for c in columns_of(ds))
        out.close()


def write_history(ds: Dataset, ctx: PackageContext, sink: PackageSink, participant_ids: tuple[int, ...] | None) -> int:
    """``audit/history/<key>.csv``: every change of every record (who, when, why, the values
    after it; the values before it are the previous row of the same id), hash-chain links kept."""
    cols = [f.attname for f in data_fields(ds.history_model)]
    header = [*HISTORY_COLUMNS, *cols, *CHAIN_COLUMNS]
    count = 0
    with sink.open(f"audit/history/{ds.key}.csv") as stream:
        out = CsvOut(stream, header)
        for rows in history_pages(ds, ctx.as_of, participant_ids, header):
            out.rows([text_value(r[h]) for h in header] for r in rows)
            count += len(rows)
        out.close()
    return count


EVENT_COLUMNS = ("id", "kind", "at", "actor_id", "actor_username", "site_id", "object_type", "object_id",
                 "ip_address", "reason", "detail", "prev_hash", "row_hash")


def _blinded_events(qs: models.QuerySet) -> models.QuerySet:
    # ARCHITECTURE.md invariant 6: a blinded package carries no unblinding record, and nothing
    # about a row of an unblinded table (allocation lists, preparations, SUSAR-only clocks).
    qs = qs.exclude(kind=EventKind.UNBLINDING)
    for app in sorted(UNBLINDED_APPS):
        qs = qs.exclude(object_type__startswith=f"{app}.")
    return qs.exclude(object_type__in=sorted(unblinded_tables()))


def write_events(ctx: PackageContext, sink: PackageSink, page: int = PAGE) -> int:
    """``audit/events.csv``: the study's event log up to the package's time."""
    qs = Event.objects.filter(at__lte=ctx.as_of)
    if ctx.blinded:
        qs = _blinded_events(qs)
    count, last = 0, 0
    with sink.open("audit/events.csv") as stream:
        out = CsvOut(stream, list(EVENT_COLUMNS))
        while True:
            rows = list(qs.filter(id__gt=last).order_by("id").values(*EVENT_COLUMNS)[:page])
            if not rows:
                break
            out.rows([text_value(r[c]) for c in EVENT_COLUMNS] for r in rows)
            count += len(rows)
            last = rows[-1]["id"]
        out.close()
    return count
