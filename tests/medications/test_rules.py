"""The concomitant-medication rules (``ecrf.medications.rules``) on plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from ecrf.medications.rules import MedicationEntry, contradicts_eligibility, medication_problems
from ecrf.study.protocol import DEFAULT_PROTOCOL as P

D = Decimal
TODAY = dt.date(2026, 11, 30)
SCREENING = dt.date(2026, 11, 1)


def problems(entry: MedicationEntry, *, started_day: int | None = 2, stopped_day: int | None = None) -> dict[str, str]:
    return medication_problems(entry, today=TODAY, protocol=P, started_day=started_day, stopped_day=stopped_day,
                               last_day_date=dt.date(2027, 1, 29))


def test_medication_entry_edges() -> None:
    ok = MedicationEntry(dose=D("0.001"), started_on=TODAY)
    assert problems(ok) == {}
    assert list(problems(replace(ok, dose=D("0")))) == ["dose"]
    assert list(problems(replace(ok, started_on=TODAY + dt.timedelta(days=1)))) == ["started_on"]
    assert problems(replace(ok, stopped_on=TODAY)) == {}
    assert list(problems(replace(ok, stopped_on=TODAY - dt.timedelta(days=1)))) == ["stopped_on"]
    # Stopped before screening (study day -1 or earlier) is not concomitant; day 0 is.
    assert problems(ok, stopped_day=0) == {}
    assert list(problems(ok, stopped_day=-1)) == ["stopped_on"]
    # Started after the last follow-up day (day 90).
    assert problems(ok, started_day=90) == {}
    assert problems(ok, started_day=91) == {"started_on": "The start date is after day 90 (2027-01-29), the end of "
                                                          "follow-up."}


def test_a_corticosteroid_has_its_hydrocortisone_dose_and_only_then() -> None:
    assert list(problems(MedicationEntry(is_corticosteroid=True))) == ["hydrocortisone_mg_per_day"]
    assert problems(MedicationEntry(is_corticosteroid=True, hydrocortisone_mg_per_day=D("50"))) == {}
    assert list(problems(MedicationEntry(hydrocortisone_mg_per_day=D("50")))) == ["is_corticosteroid"]


@pytest.mark.parametrize(("dose", "started", "stopped", "contradicts"), [
    (D("200"), SCREENING, None, False),  # at the maximum: eligible
    (D("200.01"), SCREENING, None, True),
    (D("300"), SCREENING + dt.timedelta(days=1), None, False),  # started after screening
    (D("300"), SCREENING - dt.timedelta(days=5), SCREENING, True),  # stopped on the screening date
    (D("300"), SCREENING - dt.timedelta(days=5), SCREENING - dt.timedelta(days=1), False),
])
def test_a_corticosteroid_above_the_maximum_at_screening_contradicts_eligibility(
        dose: Decimal, started: dt.date, stopped: dt.date | None, contradicts: bool) -> None:
    entry = MedicationEntry(is_corticosteroid=True, hydrocortisone_mg_per_day=dose, started_on=started,
                            stopped_on=stopped)
    assert contradicts_eligibility(entry, screening_date=SCREENING, protocol=P) is contradicts
    assert contradicts_eligibility(replace(entry, is_corticosteroid=False), screening_date=SCREENING,
                                   protocol=P) is False
