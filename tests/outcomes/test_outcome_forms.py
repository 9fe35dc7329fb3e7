from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.deviations.models import Deviation
from tests.support.times import athens

pytestmark = pytest.mark.django_db


def test_vital_status_rules(api, coordinator, randomized):
    client = api(coordinator)
    url = "/api/v1/vital-status/"
    base = {"participant": randomized.pk, "day": 28, "vital_status": "alive", "assessed_on": "2025-04-06"}
    assert client.post(url, {**base, "day": 30}, format="json").json()["error"]["fields"].keys() == {"day"}
    assert "assessed_on" in client.post(url, {**base, "assessed_on": "2025-03-30"}, format="json").json()["error"]["fields"]
    assert "last_contact_date" in client.post(url, {**base, "vital_status": "unknown"}, format="json").json()["error"]["fields"]
    assert "vital_status" in client.post(url, {**base, "vital_status": "dead"}, format="json").json()["error"]["fields"]
    assert client.post(url, {**base, "vital_status": "unknown", "last_contact_date": "2025-04-01"}, format="json").status_code == 201
    assert client.post(url, base, format="json").status_code == 400  # second day-28 record


def test_infection_and_end_of_study(api, coordinator, randomized):
    client = api(coordinator)
    inf = {"participant": randomized.pk, "onset_date": "2025-03-09", "infection_site": "lung", "diagnosed_by": "culture"}
    assert "onset_date" in client.post("/api/v1/infections/", inf, format="json").json()["error"]["fields"]
    r = client.post("/api/v1/infections/", {**inf, "onset_date": "2025-03-16", "organism": "Acinetobacter"}, format="json")
    assert r.status_code == 201 and r.json()["study_day"] == 7
    eos = {"participant": randomized.pk, "disposition": "completed", "disposition_date": "2025-04-01"}
    assert "disposition_date" in client.post("/api/v1/end-of-study/", eos, format="json").json()["error"]["fields"]
    assert "disposition" in client.post("/api/v1/end-of-study/", {**eos, "disposition": "died"}, format="json").json()["error"]["fields"]
    client.post("/api/v1/deaths/", {"participant": randomized.pk, "died_at": athens(2025, 3, 20, 4).isoformat(), "cause": "x",
                                    "submit": True}, format="json")
    assert client.post("/api/v1/end-of-study/", {**eos, "disposition": "died", "disposition_date": "2025-03-20"},
                       format="json").status_code == 201


def test_deviations_raised_by_monitor_and_data_manager(api, users, randomized):
    body = {"participant": randomized.pk, "category": "consent", "description": "Consent version 2 used",
            "occurred_on": "2025-03-10", "found_by": "monitor", "impact": "minor", "corrective_action": "Re-consent"}
    assert api(users[Role.MONITOR]).post("/api/v1/deviations/", body, format="json").status_code == 201
    assert api(users[Role.DATA_MANAGER]).post("/api/v1/deviations/", {**body, "found_by": "data_manager"}, format="json").status_code == 201
    r = api(users[Role.COORDINATOR]).post("/api/v1/deviations/", {**body, "found_by": "system"}, format="json")
    assert r.status_code == 400 and "found_by" in r.json()["error"]["fields"]
    assert api(users[Role.PHARMACIST]).post("/api/v1/deviations/", body, format="json").status_code == 403
    assert Deviation.objects.count() == 2
