"""The lab forms' edit checks, on forms entered through the form services."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.labs.specs import CENTRAL_LAB_SPEC, LAB_PANEL_SPEC
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


def panel(actor, participant, day: int, *, submit: bool = True, **values):
    return form_create(actor=actor, spec=LAB_PANEL_SPEC, participant=participant, submit=submit,
                       data={"day": day, "sample_time": DAY_ONE + 24 * H * (day - 1), **values})


def test_very_low_hemoglobin_in_any_unit(coordinator, randomized):
    low_g_dl = panel(coordinator, randomized, 2, hemoglobin="4.5", hemoglobin_unit="g/dL")
    low_g_l = panel(coordinator, randomized, 3, hemoglobin="45", hemoglobin_unit="g/L")
    panel(coordinator, randomized, 4, hemoglobin="60", hemoglobin_unit="g/L")  # 6 g/dL
    panel(coordinator, randomized, 5, hemoglobin="5", hemoglobin_unit="g/dL")
    assert forms(run("LAB-001", randomized)) == {low_g_dl.pk, low_g_l.pk}


def test_very_high_platelets_in_any_unit(coordinator, randomized):
    high = panel(coordinator, randomized, 2, platelets="1200", platelets_unit="10^9/L")
    high_mm3 = panel(coordinator, randomized, 3, platelets="1100000", platelets_unit="/mm3")
    panel(coordinator, randomized, 4, platelets="900000", platelets_unit="/mm3")
    assert forms(run("LAB-002", randomized)) == {high.pk, high_mm3.pk}


def test_panel_missing_past_its_window(coordinator, randomized):
    # Day 2 is 2025-03-11 (Athens); its window closes at the end of 03-12.
    assert run("LAB-003", randomized, now=DAY_ONE + 61 * H) == []  # 03-12 23:00
    assert [(t.form_id, t.item) for t in run("LAB-003", randomized, now=DAY_ONE + 63 * H)] == [(None, "2")]
    panel(coordinator, randomized, 2, hemoglobin="11", hemoglobin_unit="g/dL")
    assert run("LAB-003", randomized, now=DAY_ONE + 63 * H) == []
    assert [t.item for t in run("LAB-003", randomized, now=DAY_ONE + 87 * H)] == ["3"]


def test_central_lab_missing_past_its_window(users, randomized):
    assert [t.item for t in run("LAB-004", randomized, now=DAY_ONE + 63 * H)] == ["2"]
    form_create(actor=users[Role.LAB], spec=CENTRAL_LAB_SPEC, participant=randomized, submit=True,
                data={"day": 2, "sample_time": DAY_ONE + 24 * H, "ferritin": "5100", "ferritin_unit": "ng/mL",
                      "hla_dr": 9000})
    assert run("LAB-004", randomized, now=DAY_ONE + 63 * H) == []


def test_stale_draft(coordinator, randomized):
    draft = panel(coordinator, randomized, 2, submit=False, hemoglobin="11", hemoglobin_unit="g/dL")
    assert run("LAB-005", randomized, now=draft.updated_at + dt.timedelta(days=6)) == []
    assert forms(run("LAB-005", randomized, now=draft.updated_at + dt.timedelta(days=8))) == {draft.pk}
