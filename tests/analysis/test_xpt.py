"""SAS XPORT v5: every limit refused by name before anything is written, the header dated by the
package's time (same bytes whatever the clock), and a faithful read-back."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyreadstat
import pytest
import time_machine

from ecrf.analysis import xpt
from ecrf.analysis.xpt import Dataset, Variable, XptLimitError, check_v5, csv_bytes, xpt_bytes

AS_OF = dt.datetime(2025, 7, 1, 12, 34, 56, tzinfo=dt.UTC)


def dataset(**changes) -> Dataset:  # noqa: ANN003
    base = {
        "name": "DM",
        "label": "Demographics",
        "variables": (Variable("USUBJID", "Unique Subject Identifier"), Variable("AGE", "Age", "integer"),
                      Variable("RANDDT", "Date of Randomization", "date"), Variable("AVAL", "Analysis Value", "float")),
        "rows": [{"USUBJID": "S-A-001", "AGE": 64, "RANDDT": 23810.0, "AVAL": 3.25},
                 {"USUBJID": "S-A-002", "AGE": None, "RANDDT": None, "AVAL": -0.875}],
    }
    base.update(changes)
    return Dataset(**base)


def with_var(var: Variable, value: object = "x") -> Dataset:
    return dataset(variables=(Variable("USUBJID", "Unique Subject Identifier"), var),
                   rows=[{"USUBJID": "S-A-001", var.name: value}])


REFUSED = {
    "dataset name of 9 characters": (dataset(name="ADSOFAXYZ"), "dataset_name"),
    "lower-case dataset name": (dataset(name="dm"), "dataset_name"),
    "dataset label of 41 characters": (dataset(label="L" * 41), "dataset_label"),
    "non-ASCII dataset label": (dataset(label="Démographie"), "ascii"),
    "variable name of 9 characters": (with_var(Variable("AESIANEMX", "Anemia")), "variable_name"),
    "variable name starting with a digit": (with_var(Variable("1AGE", "Age")), "variable_name"),
    "duplicate variable": (with_var(Variable("USUBJID", "Again")), "variable_name"),
    "variable label of 41 characters": (with_var(Variable("AETERM", "T" * 41)), "variable_label"),
    "non-ASCII variable label": (with_var(Variable("LBORRESU", "Unités")), "ascii"),
    "character value of 201 bytes": (with_var(Variable("AETERM", "Term"), "x" * 201), "char_length"),
    "non-ASCII character value": (with_var(Variable("CMTRT", "Drug"), "µg dose"), "ascii"),
    "text in a numeric variable": (with_var(Variable("AGE", "Age", "integer"), "64"), "type"),
    "number in a character variable": (with_var(Variable("AETERM", "Term"), 3), "type"),
    "infinite number": (with_var(Variable("AVAL", "Analysis Value", "float"), float("inf")), "type"),
    "undeclared variable in a row": (dataset(rows=[{"USUBJID": "S", "EXTRA": "x"}]), "variables"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_each_v5_limit_is_refused_by_name_and_nothing_is_written(case, monkeypatch):
    data, limit = REFUSED[case]
    calls = []
    monkeypatch.setattr(pyreadstat, "write_xport", lambda *a, **k: calls.append(a))
    with pytest.raises(XptLimitError) as caught:
        xpt_bytes(data, as_of=AS_OF)
    assert caught.value.limit == limit
    assert caught.value.dataset == data.name and str(caught.value).startswith(f"{data.name}: ")
    assert calls == []  # refused before pyreadstat ran


def test_the_limits_themselves_are_allowed():
    edge = dataset(name="ADSOFA12", label="L" * 40,
                   variables=(Variable("USUBJID", "U" * 40), Variable("QVAL12AB", "Data Value")),
                   rows=[{"USUBJID": "S", "QVAL12AB": "x" * 200}])
    check_v5(edge)
    back, meta = _read(xpt_bytes(edge, as_of=AS_OF))
    assert back["QVAL12AB"][0] == "x" * 200 and meta.table_name == "ADSOFA12"


def test_the_char_error_names_the_variable_row_and_size():
    data = dataset(variables=(Variable("USUBJID", "Unique Subject Identifier"),),
                   rows=[{"USUBJID": "ok"}, {"USUBJID": "y" * 250}])
    with pytest.raises(XptLimitError, match=r"DM: USUBJID in row 2 has 250 bytes; XPORT v5 allows 200"):
        check_v5(data)


def _read(data: bytes, tmp_path_factory=None):  # noqa: ANN001, ANN202
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".xpt") as f:
        f.write(data)
        f.flush()
        return pyreadstat.read_xport(f.name)


def test_same_bytes_whatever_the_clock_and_header_dates_are_the_package_time():
    with time_machine.travel(dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC), tick=False):
        first = xpt_bytes(dataset(), as_of=AS_OF)
    with time_machine.travel(dt.datetime(2031, 6, 7, 8, 9, 10, tzinfo=dt.UTC), tick=False):
        second = xpt_bytes(dataset(), as_of=AS_OF)
    assert first == second
    stamp = b"01JUL25:12:34:56"
    fields = [first[r * 80 + a:r * 80 + b] for r, a, b in xpt.HEADER_DATE_FIELDS]
    assert fields == [stamp] * 4
    assert b"30" not in b"".join(fields) and first.count(stamp) == 4
    # Another package time changes those four fields and nothing else.
    other = xpt_bytes(dataset(), as_of=AS_OF + dt.timedelta(days=1))
    differing = [i for i, (x, y) in enumerate(zip(first, other, strict=True)) if x != y]
    assert differing and all(any(r * 80 + a <= i < r * 80 + b for r, a, b in xpt.HEADER_DATE_FIELDS) for i in differing)


def test_read_back_gives_the_names_labels_and_values():
    data = xpt_bytes(dataset(), as_of=AS_OF)
    frame, meta = _read(data)
    assert list(frame.columns) == ["USUBJID", "AGE", "RANDDT", "AVAL"]
    assert meta.column_names_to_labels["RANDDT"] == "Date of Randomization" and meta.file_label == "Demographics"
    assert frame["USUBJID"].tolist() == ["S-A-001", "S-A-002"]
    assert frame["AVAL"].tolist() == [3.25, -0.875]
    assert frame["AGE"][0] == 64 and pd.isna(frame["AGE"][1])
    assert meta.original_variable_types["RANDDT"].startswith("DATE")
    with open_bytes(data) as path:
        sas = pd.read_sas(path, format="xport", encoding="ascii")
    assert sas["USUBJID"].tolist() == ["S-A-001", "S-A-002"] and sas["AVAL"].tolist() == [3.25, -0.875]


class open_bytes:  # noqa: N801 - a context manager named for what it does
    def __init__(self, data: bytes) -> None:
        import tempfile

        self.file = tempfile.NamedTemporaryFile(suffix=".xpt")  # noqa: SIM115
        self.file.write(data)
        self.file.flush()

    def __enter__(self) -> str:
        return self.file.name

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def test_csv_twin():
    assert csv_bytes(dataset()).decode() == ("USUBJID,AGE,RANDDT,AVAL\nS-A-001,64,23810,3.25\nS-A-002,,,-0.875\n")


def test_stamping_refuses_what_is_not_a_v5_header():
    with pytest.raises(ValueError, match="Not a one-member SAS XPORT v5 file"):
        xpt.stamp_header(b" " * 800, AS_OF)
