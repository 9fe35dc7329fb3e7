"""SAS XPORT version 5 files (what regulators accept) and their CSV twins, from plain datasets.

pyreadstat writes the transport file; it does not enforce every version-5 limit (a character
value over 200 bytes is written, and truncated by SAS on reading) and it stamps the wall clock
into the header. This module therefore checks every limit itself before anything is written and
refuses the whole dataset with an ``XptLimitError`` naming the dataset, the variable, the row
and the limit; after writing it sets the four header date fields (library created / modified,
member created / modified) to the package's time, so that one lock gives the same bytes on
every run. No Django here.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

# SAS XPORT v5 limits (SAS TS-140; FDA Study Data Technical Conformance Guide).
MAX_NAME: Final = 8  # dataset and variable names
MAX_LABEL: Final = 40  # dataset and variable labels
MAX_CHAR_BYTES: Final = 200  # one character value
# A SAS v5 name: a letter (or underscore) then letters, digits, underscores; SDTM and ADaM use
# upper case only.
NAME_PATTERN: Final = re.compile(r"^[A-Z_][A-Z0-9_]*$")

# The four header date fields of a one-member v5 file: (80-byte record, start, end).
HEADER_DATE_FIELDS: Final = ((1, 64, 80), (2, 0, 16), (5, 64, 80), (6, 0, 16))
_HEADER_DATE = re.compile(rb"^\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}$")
RECORD: Final = 80

Value = str | int | float | None


class XptLimitError(ValueError):
    """A dataset breaks a SAS XPORT v5 limit: nothing is written."""

    def __init__(self, *, dataset: str, limit: str, message: str) -> None:
        self.dataset = dataset
        self.limit = limit
        super().__init__(f"{dataset}: {message}")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: Literal["text", "float", "integer", "date"] = "text"  # date: a SAS date number
    # Define-XML: where the value comes from ("Collected", "Derived", "Assigned", "Predecessor")
    # and, for a derived one, how (a MethodDef).
    origin: str = "Collected"
    method: str = ""
    codelist: str = ""  # the name of a code list of ``CODELISTS`` in ecrf.analysis.terminology

    @property
    def numeric(self) -> bool:
        return self.type != "text"


@dataclass
class Dataset:
    """One SDTM or ADaM dataset: its variables in order and its rows, already sorted."""

    name: str
    label: str
    variables: tuple[Variable, ...]
    rows: list[dict[str, Value]] = field(default_factory=list)
    keys: tuple[str, ...] = ()  # the sort keys (Define-XML KeySequence)
    structure: str = ""  # e.g. "One record per subject"
    klass: str = ""  # the SDTM or ADaM class, e.g. "SPECIAL PURPOSE", "EVENTS", "BASIC DATA STRUCTURE"

    def column(self, name: str) -> list[Value]:
        return [row.get(name) for row in self.rows]


def _ascii(text: str) -> bool:
    return text.isascii()


def check_v5(dataset: Dataset) -> None:
    """Refuse a dataset that breaks any v5 limit; the error names the first offence found."""
    name = dataset.name

    def fail(limit: str, message: str) -> None:
        raise XptLimitError(dataset=name, limit=limit, message=message)

    if len(name) > MAX_NAME:
        fail("dataset_name", f"dataset name {name!r} has {len(name)} characters; XPORT v5 allows {MAX_NAME}.")
    if not NAME_PATTERN.match(name):
        fail("dataset_name", f"dataset name {name!r} must be upper-case letters, digits or '_', "
                             "starting with a letter.")
    if not _ascii(dataset.label):
        fail("ascii", f"dataset label {dataset.label!r} is not ASCII.")
    if len(dataset.label) > MAX_LABEL:
        fail("dataset_label", f"dataset label {dataset.label!r} has {len(dataset.label)} characters; "
                              f"XPORT v5 allows {MAX_LABEL}.")
    if not dataset.variables:
        fail("variables", "a dataset needs at least one variable.")
    seen: set[str] = set()
    for var in dataset.variables:
        if len(var.name) > MAX_NAME:
            fail("variable_name", f"variable name {var.name!r} has {len(var.name)} characters; "
                                  f"XPORT v5 allows {MAX_NAME}.")
        if not NAME_PATTERN.match(var.name):
            fail("variable_name", f"variable name {var.name!r} must be upper-case letters, digits or '_', "
                                  "starting with a letter.")
        if var.name in seen:
            fail("variable_name", f"variable {var.name!r} appears twice.")
        seen.add(var.name)
        if not _ascii(var.label):
            fail("ascii", f"label of {var.name} ({var.label!r}) is not ASCII.")
        if len(var.label) > MAX_LABEL:
            fail("variable_label", f"label of {var.name} ({var.label!r}) has {len(var.label)} characters; "
                                   f"XPORT v5 allows {MAX_LABEL}.")
    known = {v.name for v in dataset.variables}
    for index, row in enumerate(dataset.rows, start=1):
        if not row.keys() <= known:
            fail("variables", f"row {index} has values for undeclared variables {sorted(set(row) - known)}.")
    # Column by column with C-level builtins (a million-row RS is checked in seconds); on a
    # failure the first offending row is looked up for the message.
    for var in dataset.variables:
        values = [row.get(var.name) for row in dataset.rows]
        present = [v for v in values if v is not None]
        if not present:
            continue
        kinds = set(map(type, present))
        if var.numeric:
            if not kinds <= {int, float}:
                index, value = next((i, v) for i, v in enumerate(values, 1)
                                    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)))
                fail("type", f"{var.name} is numeric but row {index} holds {value!r}.")
            if float in kinds and not all(map(math.isfinite, present)):
                index, value = next((i, v) for i, v in enumerate(values, 1) if v is not None and not math.isfinite(v))
                fail("type", f"{var.name} in row {index} is {value!r}; XPORT holds finite numbers only.")
            continue
        if kinds != {str}:
            index, value = next((i, v) for i, v in enumerate(values, 1) if v is not None and not isinstance(v, str))
            fail("type", f"{var.name} is character but row {index} holds {value!r}.")
        if not all(map(str.isascii, present)):
            index, value = next((i, v) for i, v in enumerate(values, 1) if v is not None and not v.isascii())
            fail("ascii", f"{var.name} in row {index} is not ASCII ({value[:40]!r}...); "
                          "transliterate it before export.")
        # ASCII: one byte per character, so the length is the size in bytes.
        if max(map(len, present)) > MAX_CHAR_BYTES:
            index, value = next((i, v) for i, v in enumerate(values, 1) if v is not None and len(v) > MAX_CHAR_BYTES)
            fail("char_length", f"{var.name} in row {index} has {len(value)} bytes; XPORT v5 allows "
                                f"{MAX_CHAR_BYTES} (split it into {var.name[:7]}1.. or a SUPP-- record).")


def header_datetime(moment: datetime) -> bytes:
    """The v5 header's date format, ``ddMMMyy:hh:mm:ss``, in UTC."""
    months = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    utc = moment.astimezone(UTC)
    text = f"{utc.day:02d}{months[utc.month - 1]}{utc.year % 100:02d}:{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    return text.encode("ascii")


def stamp_header(data: bytes, moment: datetime) -> bytes:
    """Set the four header date fields of a one-member v5 file to ``moment``."""
    out = bytearray(data)
    stamp = header_datetime(moment)
    for record, start, end in HEADER_DATE_FIELDS:
        lo, hi = record * RECORD + start, record * RECORD + end
        if not _HEADER_DATE.match(bytes(out[lo:hi])):
            raise ValueError(f"Not a one-member SAS XPORT v5 file: no header date at record {record + 1}.")
        out[lo:hi] = stamp
    return bytes(out)


def _frame(dataset: Dataset):  # noqa: ANN202 - pandas is imported lazily (heavy)
    # deferred import: pandas loads in about a second and tens of MiB; every web and worker
    # process imports this module (through the package-section registry), only writing an XPT file uses it.
    import pandas as pd

    columns: dict[str, list[Value]] = {}
    for var in dataset.variables:
        values = dataset.column(var.name)
        if var.numeric:
            columns[var.name] = [math.nan if v is None else float(v) for v in values]
        else:
            # SAS has no missing character value other than blank.
            columns[var.name] = ["" if v is None else v for v in values]
    frame = pd.DataFrame(columns, columns=[v.name for v in dataset.variables])
    for var in dataset.variables:
        frame[var.name] = frame[var.name].astype("float64" if var.numeric else "object")
    return frame


def xpt_bytes(dataset: Dataset, *, as_of: datetime) -> bytes:
    """The dataset as a SAS XPORT v5 file, header dates set to ``as_of``; refused (nothing
    written) if it breaks a v5 limit."""
    # deferred import: pyreadstat (with pandas) loads in about a second and tens of MiB; every web and worker
    # process imports this module (through the package-section registry), only writing an XPT file uses it.
    import pyreadstat

    check_v5(dataset)
    frame = _frame(dataset)
    handle, path = tempfile.mkstemp(suffix=".xpt")
    os.close(handle)
    try:
        pyreadstat.write_xport(frame, path, file_label=dataset.label,
                               column_labels=[v.label for v in dataset.variables],
                               table_name=dataset.name, file_format_version=5,
                               variable_format={v.name: "DATE9" for v in dataset.variables if v.type == "date"} or None)
        with open(path, "rb") as f:
            data = f.read()
    finally:
        os.unlink(path)
    return stamp_header(data, as_of)


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def csv_bytes(dataset: Dataset) -> bytes:
    """The same dataset as CSV (UTF-8, a header of variable names, '\\n' line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in dataset.variables])
    for row in dataset.rows:
        writer.writerow([_csv_value(row.get(v.name)) for v in dataset.variables])
    return buffer.getvalue().encode("utf-8")


def sort_rows(rows: Iterable[Mapping[str, Value]], keys: Sequence[str]) -> list[dict[str, Value]]:
    """Rows in key order; a missing value sorts first (a stable, total order for any values)."""
    def key(row: Mapping[str, Value]) -> tuple:
        return tuple((row.get(k) is not None, row.get(k) if row.get(k) is not None else "") for k in keys)

    return [dict(r) for r in sorted(rows, key=key)]


def add_seq(rows: list[dict[str, Value]], *, domain: str, by: str = "USUBJID") -> None:
    """``--SEQ``: 1, 2, ... within each subject, in the rows' (sorted) order."""
    counters: dict[Value, int] = {}
    for row in rows:
        counters[row[by]] = counters.get(row[by], 0) + 1
        row[f"{domain}SEQ"] = counters[row[by]]
