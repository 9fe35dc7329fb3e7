"""The protocol-deviation rules (``ecrf.deviations.rules``) on plain values."""

from __future__ import annotations

import datetime as dt

from ecrf.deviations.rules import deviation_problems

TODAY = dt.date(2026, 11, 30)


def test_deviation_rules() -> None:
    assert deviation_problems(occurred_on=TODAY, found_by="monitor", rule_code="", today=TODAY) == {}
    assert list(deviation_problems(occurred_on=TODAY + dt.timedelta(days=1), found_by="monitor", rule_code="",
                                   today=TODAY)) == ["occurred_on"]
    assert list(deviation_problems(occurred_on=TODAY, found_by="system", rule_code="", today=TODAY)) == ["found_by"]
    assert deviation_problems(occurred_on=TODAY, found_by="system", rule_code="late_first_dose", today=TODAY) == {}
