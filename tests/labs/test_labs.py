"""Labs: sampling-day schedule, units, normal ranges, anemia, and phenotype reversal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.accounts.roles import Role
from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.reversal import IMMUNOPARALYSIS, MALS, phenotype_reversal
from ecrf.labs.selectors import anemia_days, reversal_for
from tests.support.times import athens

URL = "/api/v1/labs/"
CENTRAL = "/api/v1/central-labs/"


def panel(p, **extra):
    return {"participant": p.pk, "day": 2, "sample_time": athens(2025, 3, 11, 6, 0).isoformat(),
            "hemoglobin": "9.1", "hemoglobin_unit": "g/dL", "hemoglobin_low": "12", "hemoglobin_high": "16",
            "platelets": "150000", "platelets_unit": "/mm3", **extra}


@pytest.mark.django_db
def test_panel_with_units_and_anemia(api, coordinator, randomized):
    r = api(coordinator).post(URL, {**panel(randomized), "submit": True}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["anemia"] is True and Decimal(str(r.json()["hemoglobin_g_dl"])) == Decimal("9.1")
    r = api(coordinator).post(URL, {**panel(randomized, day=3, sample_time=athens(2025, 3, 12, 6).isoformat(),
                                            hemoglobin="105", hemoglobin_unit="g/L"), "submit": True}, format="json")
    assert r.json()["anemia"] is False
    assert anemia_days(randomized) == [2]


@pytest.mark.django_db
@pytest.mark.parametrize(("extra", "field"), [
    ({"day": 6}, "day"),  # not a sampling day
    ({"sample_time": athens(2025, 3, 14, 6).isoformat()}, "sample_time"),  # day 5, not day 2
    ({"sample_time": athens(2025, 3, 10, 6).isoformat()}, "sample_time"),  # before randomization (day 1)
    ({"hemoglobin_unit": "mg/dL"}, "hemoglobin_unit"),  # a unit hemoglobin does not take
    ({"hemoglobin_unit": ""}, "hemoglobin_unit"),
    ({"hemoglobin_low": "17"}, "hemoglobin_high"),  # range upside down
    ({"hemoglobin": "-1"}, "hemoglobin"),
    ({"creatinine": "1.1", "creatinine_unit": "g/dL"}, "creatinine_unit"),
])
def test_bad_lab_input_is_400_naming_the_field(api, coordinator, randomized, extra, field):
    r = api(coordinator).post(URL, panel(randomized, **extra), format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["error"]["fields"]
    assert not LabPanel.objects.exists()


@pytest.mark.django_db
def test_second_panel_for_a_day_is_refused(api, coordinator, randomized):
    assert api(coordinator).post(URL, panel(randomized), format="json").status_code == 201
    r = api(coordinator).post(URL, panel(randomized), format="json")
    assert r.status_code == 400 and "day" in r.json()["error"]["fields"]


@pytest.mark.django_db
def test_central_lab_is_entered_by_the_lab_role_only(api, users, randomized):
    body = {"participant": randomized.pk, "day": 15, "sample_time": athens(2025, 3, 24, 7).isoformat(),
            "ferritin": "900", "ferritin_unit": "ng/mL", "hla_dr": 9100, "submit": True}
    assert api(users[Role.COORDINATOR]).post(CENTRAL, body, format="json").status_code == 403
    r = api(users[Role.LAB]).post(CENTRAL, body, format="json")
    assert r.status_code == 201, r.json()
    assert reversal_for(randomized, phenotype=IMMUNOPARALYSIS, baseline_ferritin=Decimal("1200")) is True
    assert reversal_for(randomized, phenotype=MALS, baseline_ferritin=Decimal("1000")) is False  # fell 10%
    assert CentralLab.objects.count() == 1


# Worked examples (trial.md "Secondary endpoints").
@pytest.mark.parametrize(("phenotype", "baseline", "ferritin", "hla_dr", "expected"), [
    (MALS, Decimal("10000"), Decimal("8500"), None, True),    # exactly 15% fall
    (MALS, Decimal("10000"), Decimal("8501"), None, False),   # 14.99%
    (MALS, Decimal("6000"), Decimal("2000"), 3000, True),
    (MALS, Decimal("6000"), Decimal("7000"), None, False),    # rose
    (MALS, None, Decimal("2000"), None, None),                # no baseline: not evaluable
    (MALS, Decimal("6000"), None, None, None),
    (IMMUNOPARALYSIS, Decimal("900"), Decimal("800"), 8001, True),
    (IMMUNOPARALYSIS, Decimal("900"), Decimal("800"), 8000, False),   # HLA-DR must exceed 8000
    (IMMUNOPARALYSIS, Decimal("900"), Decimal("4420"), 12000, False),  # ferritin must be below 4420
    (IMMUNOPARALYSIS, Decimal("900"), Decimal("4419.9"), 12000, True),
    (IMMUNOPARALYSIS, Decimal("900"), Decimal("800"), None, None),
])
def test_phenotype_reversal_worked_examples(phenotype, baseline, ferritin, hla_dr, expected):
    assert phenotype_reversal(phenotype, baseline_ferritin=baseline, day15_ferritin=ferritin, day15_hla_dr=hla_dr) is expected


@settings(deadline=None)
@given(st.decimals(min_value=1, max_value=100000, places=1), st.decimals(min_value=0, max_value=100000, places=1))
def test_mals_reversal_is_a_fall_of_at_least_15_percent(baseline, day15):
    result = phenotype_reversal(MALS, baseline_ferritin=baseline, day15_ferritin=day15, day15_hla_dr=None)
    assert result == (day15 <= baseline * Decimal("0.85"))


def test_unknown_phenotype_is_refused():
    with pytest.raises(ValueError):
        phenotype_reversal("neither", baseline_ferritin=Decimal(1), day15_ferritin=Decimal(1), day15_hla_dr=1)
