from __future__ import annotations

import pytest
from django.test import Client

from ecrf.medications.models import ConcomitantMedication

pytestmark = pytest.mark.django_db
URL = "/api/v1/medications/"


def med(p, **extra):
    return {"participant": p.pk, "drug": "Hydrocortisone", "indication": "Septic shock", "dose": "50", "dose_unit": "mg",
            "route": "iv", "started_on": "2025-03-09", "is_corticosteroid": True, "hydrocortisone_mg_per_day": "200", **extra}


def test_corticosteroid_over_threshold_at_screening_contradicts_eligibility(api, coordinator, randomized):
    r = api(coordinator).post(URL, med(randomized, hydrocortisone_mg_per_day="300"), format="json")
    assert r.status_code == 201 and r.json()["contradicts_eligibility"] is True
    client = Client()
    client.force_login(coordinator)
    html = client.get(f"/participants/{randomized.pk}/").content.decode()
    assert "Contradicts eligibility" in html and "Hydrocortisone" in html


def test_at_threshold_or_started_later_does_not(api, coordinator, randomized):
    assert api(coordinator).post(URL, med(randomized), format="json").json()["contradicts_eligibility"] is False
    late = api(coordinator).post(URL, med(randomized, started_on="2025-03-12", hydrocortisone_mg_per_day="400"), format="json")
    assert late.json()["contradicts_eligibility"] is False


@pytest.mark.parametrize(("extra", "field"), [
    ({"stopped_on": "2025-03-08"}, "stopped_on"),  # stop before start
    ({"dose_unit": "tablets"}, "dose_unit"),
    ({"hydrocortisone_mg_per_day": None}, "hydrocortisone_mg_per_day"),
    ({"is_corticosteroid": False}, "is_corticosteroid"),
    ({"started_on": "2025-07-01"}, "started_on"),  # after day 90
    ({"dose": "0"}, "dose"),
])
def test_bad_medication_input(api, coordinator, randomized, extra, field):
    r = api(coordinator).post(URL, med(randomized, **extra), format="json")
    assert r.status_code == 400 and field in r.json()["error"]["fields"], r.json()
    assert not ConcomitantMedication.objects.exists()
