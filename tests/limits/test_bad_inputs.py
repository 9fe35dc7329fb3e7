"""The bad inputs of the security review, each through the API: a specific JSON 400 naming the
field, and nothing is created or changed."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.deviations.models import Deviation
from ecrf.dosing.models import Administration
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.labs.models import LabPanel
from ecrf.outcomes.models import Death
from ecrf.outcomes.specs import DEATH
from ecrf.sofa.models import SofaDay
from safety.models import AdverseEvent
from tests.support.times import athens, iv, sc

pytestmark = pytest.mark.django_db
FIRST = athens(2025, 3, 10, 10, 30)


def assert_refused(response, field: str, *words: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    text = " ".join(error["fields"][field]).lower()
    for word in words:
        assert word.lower() in text, text
    return error


@pytest.mark.parametrize(("payload", "field", "words"), [
    (iv(FIRST, 1, volume_ml="9999"), "volume_ml", ["less than or equal to 100"]),
    (iv(FIRST, 1, volume_ml="100.01"), "volume_ml", ["less than or equal to 100"]),
    (sc(FIRST, 1, volume_ml="500"), "volume_ml", ["less than or equal to 100"]),
    (sc(FIRST, 1, volume_ml="20"), "volume_ml", ["SC study drug", "0.01 to 2"]),
    (iv(FIRST, 1, duration_minutes=100000), "duration_minutes", ["less than or equal to 1440"]),
    (iv(FIRST, 1, interrupted=True, interruption_minutes=5000), "interruption_minutes", ["1440"]),
    (iv(FIRST, 1, volume_ml="0"), "volume_ml", ["more than 0"]),
])
def test_impossible_administrations_are_refused(api, coordinator, randomized, payload, field, words):
    response = api(coordinator).post("/api/v1/administrations/", {"participant": randomized.pk, **payload}, format="json")
    assert_refused(response, field, *words)
    assert not Administration.objects.exists()


def test_a_possible_administration_is_accepted(api, coordinator, randomized):
    # The edges of the hard limits are possible: 100 mL IV, 2 mL SC, a 24-hour infusion.
    ok = api(coordinator).post("/api/v1/administrations/", {"participant": randomized.pk,
                                                           **iv(FIRST, 1, volume_ml="100", duration_minutes=1440)},
                               format="json")
    assert ok.status_code == 201, ok.json()
    ok = api(coordinator).post("/api/v1/administrations/", {"participant": randomized.pk,
                                                           **sc(FIRST, 1, volume_ml="2")}, format="json")
    assert ok.status_code == 201, ok.json()


def test_an_impossible_change_leaves_the_administration_as_it_was(api, coordinator, randomized):
    created = api(coordinator).post("/api/v1/administrations/", {"participant": randomized.pk, **iv(FIRST, 1)},
                                    format="json").json()
    response = api(coordinator).patch(f"/api/v1/administrations/{created['id']}/",
                                      {"volume_ml": "9999", "expected_version": created["version"]}, format="json")
    assert_refused(response, "volume_ml")
    row = Administration.objects.get(pk=created["id"])
    assert str(row.volume_ml) == "20.00" and row.version == created["version"]
    assert row.history.count() == 1


def panel(p, **extra):
    return {"participant": p.pk, "day": 2, "sample_time": athens(2025, 3, 11, 6, 0).isoformat(), **extra}


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"hemoglobin": "500", "hemoglobin_unit": "g/dL"}, "hemoglobin", ["less than or equal to 250"]),
    ({"hemoglobin": "30", "hemoglobin_unit": "g/dL"}, "hemoglobin", ["impossible", "0.000 to 25.000 g/dL"]),
    ({"hemoglobin": "260", "hemoglobin_unit": "g/L"}, "hemoglobin", ["less than or equal to 250"]),
    ({"platelets": "99999", "platelets_unit": "10^9/L"}, "platelets", ["impossible", "10^9/L"]),
    ({"platelets": "9999999", "platelets_unit": "/mm3"}, "platelets", ["less than or equal to"]),
    ({"hemoglobin": "9", "hemoglobin_unit": "g/dL", "hemoglobin_high": "90"}, "hemoglobin_high", ["impossible"]),
])
def test_impossible_lab_results_are_refused(api, coordinator, randomized, values, field, words):
    response = api(coordinator).post("/api/v1/labs/", panel(randomized, **values), format="json")
    assert_refused(response, field, *words)
    assert not LabPanel.objects.exists()


def test_a_real_lab_result_at_the_edge_is_accepted(api, coordinator, randomized):
    # 99,999 platelets per mm3 is a real (low) count; 25 g/dL the edge of haemoglobin.
    response = api(coordinator).post("/api/v1/labs/", panel(randomized, platelets="99999", platelets_unit="/mm3",
                                                           hemoglobin="25", hemoglobin_unit="g/dL"), format="json")
    assert response.status_code == 201, response.json()


def test_sofa_platelets_per_microlitre_keep_their_specific_message(api, coordinator, randomized):
    response = api(coordinator).post("/api/v1/sofa/", {"participant": randomized.pk, "day": 1, "platelets": "99999"},
                                     format="json")
    assert_refused(response, "platelets", "x10^3/ul")
    assert not SofaDay.objects.exists()


def test_a_deviation_in_1990_is_refused(api, coordinator, randomized):
    response = api(coordinator).post("/api/v1/deviations/", {
        "participant": randomized.pk, "category": "procedure", "description": "Sample taken late",
        "occurred_on": "1990-03-10", "found_by": "site", "impact": "minor"}, format="json")
    assert_refused(response, "occurred_on", "before the start of the trial (2021-01-01)")
    assert not Deviation.objects.exists()


def ae(p, **extra):
    return {"participant": p.pk, "verbatim_term": "Anaemia", "llt_code": 94000011, "onset_date": "2025-03-12",
            "grade": 2, "outcome": "recovering", "aware_at": "2025-03-12T09:00:00Z", "causality_iv": "possible",
            "causality_sc": "unlikely", **extra}


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"anemia": True, "hb_nadir_g_dl": "-3"}, "hb_nadir_g_dl", ["greater than or equal to 0.1"]),
    ({"anemia": True, "hb_nadir_g_dl": "90"}, "hb_nadir_g_dl", ["less than or equal to 25"]),
    ({"anemia": True, "hb_nadir_g_dl": "6.8", "transfusion_units": 10000}, "transfusion_units",
     ["less than or equal to 500"]),
    ({"onset_date": "2000-03-12", "aware_at": "2000-03-12T09:00:00Z"}, "onset_date", ["before the start of the trial"]),
    ({"aware_at": "2025-03-11T09:00:00Z"}, "aware_at", ["before the onset date (2025-03-12)"]),
])
def test_impossible_adverse_events_are_refused(api, users, meddra, randomized, extra, field, words):
    response = api(users[Role.INVESTIGATOR]).post("/api/v1/adverse-events/", ae(randomized, **extra), format="json")
    assert_refused(response, field, *words)
    assert not AdverseEvent.objects.exists()


def test_awareness_on_the_onset_date_in_the_site_zone_is_accepted(api, users, meddra, randomized):
    # 22:30 UTC on 11 March is 00:30 on 12 March in Athens (the site's zone): the onset date.
    response = api(users[Role.INVESTIGATOR]).post("/api/v1/adverse-events/",
                                                  ae(randomized, aware_at="2025-03-11T22:30:00Z"), format="json")
    assert response.status_code == 201, response.json()


def give_all_iv(actor, participant, count):
    for n in range(1, count + 1):
        form_create(actor=actor, spec=ADMINISTRATION, participant=participant, submit=True,
                    data={**iv(FIRST + dt.timedelta(hours=8 * (n - 1)), n), "started_at": FIRST + dt.timedelta(hours=8 * (n - 1))})


def test_a_death_before_doses_recorded_as_given_is_refused_naming_them(api, coordinator, randomized):
    give_all_iv(coordinator, randomized, 45)
    response = api(coordinator).post("/api/v1/deaths/", {"participant": randomized.pk, "cause": "Septic shock",
                                                         "died_at": athens(2025, 3, 11, 12, 0).isoformat()},
                                     format="json")
    error = assert_refused(response, "died_at", "41 administration(s) are recorded as given after this time of death",
                           "IV study drug dose 5,", "and 36 more")
    assert "2025-03-11 18:30" in error["fields"]["died_at"][0]  # dose 5, shown in the site's zone
    assert not Death.objects.exists()


def test_a_death_after_the_last_dose_is_accepted(api, coordinator, randomized):
    give_all_iv(coordinator, randomized, 3)
    response = api(coordinator).post("/api/v1/deaths/", {"participant": randomized.pk, "cause": "Septic shock",
                                                         "died_at": (FIRST + dt.timedelta(hours=17)).isoformat()},
                                     format="json")
    assert response.status_code == 201, response.json()


def test_a_dose_after_the_recorded_death_is_refused(api, coordinator, randomized):
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": athens(2025, 3, 11, 12, 0), "cause": "Septic shock"})
    response = api(coordinator).post("/api/v1/administrations/",
                                     {"participant": randomized.pk, **iv(athens(2025, 3, 11, 18, 30), 5)}, format="json")
    assert_refused(response, "started_at", "after the participant's recorded death")
    assert not Administration.objects.exists()
