"""The lab forms' rules (``ecrf.labs.rules``) on plain values: sampling windows, units, anaemia."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from ecrf.labs.rules import (
    CLOCK_SKEW,
    Result,
    SampleWindow,
    anemia,
    central_lab_problems,
    panel_problems,
    sampling_problems,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL as P

D = Decimal
START = dt.datetime(2026, 11, 3, 22, 0, tzinfo=dt.UTC)
WINDOW = SampleWindow(start=START, end=START + dt.timedelta(days=3), first_date=dt.date(2026, 11, 4),
                      last_date=dt.date(2026, 11, 6))
NOW = START + dt.timedelta(days=10)
TICK = dt.timedelta(microseconds=1)


def sampled(at: dt.datetime | None, *, day: int = 4, window: SampleWindow | None = WINDOW,
            now: dt.datetime = NOW) -> dict[str, str]:
    return sampling_problems(day=day, sample_time=at, sampling_days=(1, 4, 7), window=window, now=now)


def test_the_sample_is_taken_within_the_window() -> None:
    assert sampled(START) == {}
    assert sampled(WINDOW.end - TICK) == {}
    assert sampled(START - TICK) == {"sample_time": "A day-4 sample is taken between 2026-11-04 and 2026-11-06 (site time)."}
    assert list(sampled(WINDOW.end)) == ["sample_time"]  # the end is exclusive
    assert sampled(None) == {}


def test_only_sampling_days() -> None:
    assert sampled(START, day=5, window=None) == {
        "day": "Labs are sampled on days 1, 4, 7; day 5 is not a sampling day."}


def test_not_in_the_future_beyond_clock_skew() -> None:
    assert sampled(START, now=START - CLOCK_SKEW) == {}
    assert list(sampled(START, now=START - CLOCK_SKEW - TICK)) == ["sample_time"]


def test_panel_rules() -> None:
    assert panel_problems({}) == {"hemoglobin": "Enter at least one result."}
    assert panel_problems({"platelets": Result(D("150"), "10^9/L")}) == {}
    assert panel_problems({"platelets": Result(D("150"))}) == {"platelets_unit": "Give the unit of the platelets result."}
    assert list(panel_problems({"bilirubin": Result(D("-0.001"), "mg/dL")})) == ["bilirubin"]
    assert list(panel_problems({"creatinine": Result(D("1"), "", low=D("0.6"))})) == ["creatinine_unit"]
    assert list(panel_problems({"creatinine": Result(D("1"), "mg/dL", low=D("1.3"), high=D("0.6"))})) == [
        "creatinine_high"]
    assert panel_problems({"creatinine": Result(D("1"), "mg/dL", low=D("0.6"), high=D("0.6"))}) == {}


@pytest.mark.parametrize(("value", "unit", "g_dl", "anaemic"), [
    (D("10"), "g/dL", D("10.000"), False),  # the threshold itself is not anaemia
    (D("9.999"), "g/dL", D("9.999"), True),
    (D("100"), "g/L", D("10.000"), False),
    (D("99.9"), "g/L", D("9.990"), True),
    (D("6.2"), "mmol/L", D("9.988"), True),  # x 1.611
    (D("6.3"), "mmol/L", D("10.149"), False),
    (D("10"), "mg/L", None, False),  # a unit validation refuses
    (None, "g/dL", None, None),
    (D("10"), "", None, None),
])
def test_anemia_after_unit_conversion(value: Decimal | None, unit: str, g_dl: Decimal | None,
                                      anaemic: bool | None) -> None:
    assert anemia(value, unit, protocol=P) == (g_dl, anaemic)
    assert anemia(D("10.5"), "g/dL", protocol=replace(P, anemia_hemoglobin_g_dl=D("11"))) == (D("10.500"), True)


def test_central_lab_rules() -> None:
    assert central_lab_problems(ferritin=None, ferritin_unit="", hla_dr=None) == {
        "ferritin": "Enter ferritin, HLA-DR or both."}
    assert list(central_lab_problems(ferritin=D("100"), ferritin_unit="", hla_dr=None)) == ["ferritin_unit"]
    assert list(central_lab_problems(ferritin=D("-0.1"), ferritin_unit="ng/mL", hla_dr=None)) == ["ferritin"]
    assert central_lab_problems(ferritin=D("0"), ferritin_unit="ug/L", hla_dr=200000) == {}
    assert list(central_lab_problems(ferritin=None, ferritin_unit="", hla_dr=200001)) == ["hla_dr"]
