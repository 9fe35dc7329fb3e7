"""The edit-check catalogue as declared by the clinical apps: every check names a registered form
and fields of that form's model, has its rationale, spans every clinical app holding CRFs, and
finds nothing on a participant whose record is complete and consistent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import FieldDoesNotExist

from ecrf.accounts.roles import Role
from ecrf.crf.checks import TARGET_COLUMNS, all_checks
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.labs.specs import LAB_PANEL_SPEC
from ecrf.sofa.specs import SOFA_DAY
from tests.sofa.conftest import FULL_DAY
from tests.support import stages
from tests.support.checks import run, scope
from tests.support.times import athens, iv, sc

CLINICAL_APPS = {"ecrf.screening", "ecrf.dosing", "ecrf.labs", "ecrf.medications", "ecrf.outcomes",
                 "ecrf.deviations", "ecrf.sofa", "safety"}
H = dt.timedelta(hours=1)


def test_every_check_is_declared_against_its_form():
    checks = all_checks()
    assert len(checks) >= 30
    assert {c.app for c in checks} >= CLINICAL_APPS
    for check in checks:
        model = get_spec(check.form).model
        for field in check.fields:
            try:
                model._meta.get_field(field)
            except FieldDoesNotExist:  # pragma: no cover - the assertion's message
                pytest.fail(f"{check.code}: {model.__name__} has no field {field!r}")
        assert len(check.rationale) > 20 and check.message.strip(), check.code
        assert "randomization" not in check.rule.__module__ and "pharmacy" not in check.rule.__module__


@pytest.mark.django_db
def test_every_rule_compiles_to_one_select_with_the_target_columns():
    for check in all_checks():
        sql, _params = check.rule(scope()).values(*TARGET_COLUMNS).query.sql_with_params()
        assert sql.lstrip().upper().startswith("SELECT"), check.code


@pytest.mark.django_db
def test_a_complete_consistent_participant_raises_nothing(users, coordinator, site_a):
    """Randomized on 2025-03-10 10:00 Athens, every IV and SC dose on time, every SOFA day, every
    lab panel... as far as the run's ``now``: day 4 in the evening, when days 1-3 are due."""
    day_one = athens(2025, 3, 10, 10, 0)
    p = stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=day_one)
    first = p.randomized_at + 0.25 * H
    for k in range(1, 10):  # IV every 8 h up to day 4
        form_create(actor=coordinator, spec=ADMINISTRATION, participant=p, data=iv(first + 8 * H * (k - 1), k), submit=True)
    for k in range(1, 3):
        form_create(actor=coordinator, spec=ADMINISTRATION, participant=p, data=sc(first + 48 * H * (k - 1), k), submit=True)
    for day in range(1, 4):
        form_create(actor=coordinator, spec=SOFA_DAY, participant=p, data={"day": day, **FULL_DAY}, submit=True)
    panel = {"hemoglobin": "11.2", "hemoglobin_unit": "g/dL", "platelets": "180", "platelets_unit": "10^9/L"}
    for day in (2, 3):
        form_create(actor=coordinator, spec=LAB_PANEL_SPEC, participant=p, submit=True,
                    data={"day": day, "sample_time": day_one + 24 * H * (day - 1), **panel})
    now = day_one + 3 * 24 * H + 10 * H  # day 4, 20:00 Athens
    found = {check.code: run(check.code, p, now=now) for check in all_checks()}
    # The follow-up central lab of day 2 is the lab's to enter (day 3's window is still open); the
    # vital-status windows (days 28 and 90) too; everything else is quiet.
    assert {code: hits for code, hits in found.items() if hits} == {
        "LAB-004": found["LAB-004"]} and [t.item for t in found["LAB-004"]] == ["2"]
