"""Values on pages read as a clinician reads them: labels, not codes; no raw booleans, JSON or lists."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from ecrf.core.templatetags.human import hours_minutes, human


@pytest.mark.parametrize(("value", "shown"), [
    (None, "—"), ("", "—"), (True, "Yes"), (False, "No"), ({}, "—"), ([], "none"),
    (["platelets", "gcs"], "platelets, gcs"), ({"mean_arterial_pressure": 62, "fio2": None}, "mean arterial pressure: 62"),
    (Decimal("1.375000"), "1.38"), (Decimal("2.50"), "2.5"), (3.0, "3"), (12, "12"), (dt.date(2026, 12, 1), "2026-12-01"),
])
def test_human(value, shown):
    with translation.override("en"):
        assert human(value) == shown


def test_a_time_is_shown_in_the_active_zone_with_its_name():
    with timezone.override(zoneinfo.ZoneInfo("Europe/Athens")):
        assert human(dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)) == "2026-12-01 08:30 EET"


@pytest.mark.parametrize(("seconds", "shown"), [
    (86326, "23 h 58 min"), (86399, "23 h 59 min"), (59, "0 h 0 min"), (3 * 86400 + 7200, "3 d 2 h"),
    (-5400, "overdue by 1 h 30 min"), (None, "—"),
])
def test_hours_minutes(seconds, shown):
    with translation.override("en"):
        assert hours_minutes(seconds) == shown
