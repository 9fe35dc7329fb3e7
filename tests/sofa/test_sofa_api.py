"""The SOFA day form through the API: raw values in, subscores and total computed on the server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecrf.accounts.roles import Role
from ecrf.sofa.models import SofaDay
from tests.sofa.conftest import FULL_DAY, FULL_DAY_SUBSCORES

pytestmark = pytest.mark.django_db
URL = "/api/v1/sofa/"


def post(api, user, participant, **values):
    return api(user).post(URL, {"participant": participant.pk, **values}, format="json")


def test_day_is_scored_on_the_server_and_returned_with_subscores_and_total(api, coordinator, randomized_a):
    response = post(api, coordinator, randomized_a, day=1, **FULL_DAY)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["subscores"] == FULL_DAY_SUBSCORES
    assert body["total"] == sum(FULL_DAY_SUBSCORES.values()) == 12
    assert body["missing"] == [] and body["imputed"] == {}
    assert body["normalized"]["pf_ratio"] == "200.00"
    assert body["normalized"]["creatinine_mg_dl"] == "2.04"  # 180 / 88.4
    # Raw values are stored as entered, with their units.
    assert body["creatinine"] == "180.00" and body["creatinine_unit"] == "umol/L"
    form = SofaDay.objects.get(pk=body["id"])
    assert form.total == 12 and form.creatinine_mg_dl == Decimal("2.04") and form.scoring_version == "SOFA-1996"
    # Every SOFA day in the list carries its subscores and total too.
    listed = api(coordinator).get(URL).json()["results"]
    assert listed[0]["subscores"] == FULL_DAY_SUBSCORES and listed[0]["total"] == 12


def test_kpa_and_umol_units_are_scored_in_the_unit_entered(api, coordinator, randomized_a):
    values = {**FULL_DAY, "pao2": "10.0", "pao2_unit": "kPa", "fio2": "0.50",  # 75.0062 mmHg / 0.5 = 150 -> 3
              "bilirubin": "102", "bilirubin_unit": "umol/L"}  # [102, 204] -> 3
    body = post(api, coordinator, randomized_a, day=1, **values).json()
    assert body["subscores"]["respiration"] == 3 and body["subscores"]["liver"] == 3
    assert body["normalized"]["pao2_mmhg"] == "75.01" and body["normalized"]["bilirubin_mg_dl"] == "5.96"


@pytest.mark.parametrize("derived", [{"total": 3}, {"subscores": {"renal": 0}}, {"respiration": 0}, {"review_flags": {}}])
def test_client_cannot_set_derived_values(api, coordinator, randomized_a, derived):
    response = post(api, coordinator, randomized_a, day=1, **FULL_DAY, **derived)
    assert response.status_code == 400
    assert set(derived) <= set(response.json()["error"]["fields"])
    assert not SofaDay.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"fio2": "1.5"}, "fio2", "fraction"),
        ({"fio2": "0.20"}, "fio2", "below room air"),
        ({"fio2": "40"}, "fio2", "percentage"),
        ({"gcs": 2}, "gcs", "3 to 15"),
        ({"gcs": 16}, "gcs", "3 to 15"),
        ({"platelets": "-5"}, "platelets", "negative"),
        ({"urine_output": "-1"}, "urine_output", "negative"),
        ({"dopamine": "-0.5"}, "dopamine", "negative"),
        ({"norepinephrine": "-0.01"}, "norepinephrine", "negative"),
        ({"pao2_unit": "psi"}, "pao2_unit", "valid choice"),
        ({"bilirubin_unit": "mg/L"}, "bilirubin_unit", "valid choice"),
        ({"creatinine_unit": "mmol/L"}, "creatinine_unit", "valid choice"),
        ({"respiratory_support": "high_flow"}, "respiratory_support", "valid choice"),
        ({"creatinine_unit": ""}, "creatinine_unit", "without a unit"),
        ({"fio2": None}, "fio2", "without fio2"),
        ({"respiratory_support": ""}, "respiratory_support", "required"),
        ({"platelets": "150000"}, "platelets", "x10^3/ul"),
        ({"gcs": "ten"}, "gcs", "valid integer"),
        ({"day": 0}, "day", "outside the study's sofa days 1-15"),
        ({"day": 16}, "day", "outside the study's sofa days 1-15"),
        ({"day": None}, "day", "null"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_the_reason_and_nothing_is_stored(api, coordinator, randomized_a,
                                                                                  change, field, words):
    response = post(api, coordinator, randomized_a, **{"day": 1, **FULL_DAY, **change})
    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    assert words in " ".join(fields[field]).lower(), fields[field]
    assert not SofaDay.objects.exists()


def test_a_second_sofa_for_the_same_day_is_refused(api, coordinator, randomized_a):
    assert post(api, coordinator, randomized_a, day=3, **FULL_DAY).status_code == 201
    response = post(api, coordinator, randomized_a, day=3, platelets="200")
    assert response.status_code == 400
    assert "day" in response.json()["error"]["fields"]
    assert SofaDay.objects.count() == 1


def test_changing_a_day_to_one_already_recorded_is_refused(api, coordinator, randomized_a):
    post(api, coordinator, randomized_a, day=1, **FULL_DAY)
    second = post(api, coordinator, randomized_a, day=2, **FULL_DAY).json()
    response = api(coordinator).patch(f"{URL}{second['id']}/", {"day": 1, "expected_version": 1}, format="json")
    assert response.status_code == 400 and "day" in response.json()["error"]["fields"]
    assert SofaDay.objects.get(pk=second["id"]).day == 2


def test_sofa_needs_a_randomized_participant(api, coordinator, participant_a):
    response = post(api, coordinator, participant_a, day=1, **FULL_DAY)
    assert response.status_code == 409
    assert not SofaDay.objects.exists()


def test_unusual_values_are_kept_and_flagged_for_review(api, coordinator, randomized_a):
    body = post(api, coordinator, randomized_a, day=1, **{**FULL_DAY, "platelets": "1500", "map": "35"}).json()
    assert body["platelets"] == "1500.0"
    assert set(body["review_flags"]) == {"platelets", "map"}
    assert "confirm" in body["review_flags"]["map"]


def test_missing_components_day1_count_as_normal_later_days_carry_forward(api, coordinator, randomized_a):
    day1 = post(api, coordinator, randomized_a, day=1, platelets="40", gcs=15, submit=True).json()  # coag 3, cns 0
    assert day1["subscores"] == {"respiration": 0, "coagulation": 3, "liver": 0, "cardiovascular": 0, "cns": 0, "renal": 0}
    assert set(day1["missing"]) == {"respiration", "liver", "cardiovascular", "renal"}
    assert day1["imputed"] == {c: "normal" for c in day1["missing"]}
    day3 = post(api, coordinator, randomized_a, day=3, gcs=9).json()  # cns 3; coagulation carried from day 1
    assert day3["subscores"]["coagulation"] == 3 and day3["subscores"]["cns"] == 3
    assert day3["imputed"]["coagulation"] == "carried_forward_day_1"
    assert day3["total"] == 6


def test_changing_an_earlier_day_rescores_later_days_and_audits_it(api, coordinator, randomized_a):
    client = api(coordinator)
    day1 = post(api, coordinator, randomized_a, day=1, platelets="40", gcs=15, submit=True).json()
    day2 = post(api, coordinator, randomized_a, day=2, gcs=15).json()
    assert day2["total"] == 3  # coagulation 3 carried forward
    response = client.patch(f"{URL}{day1['id']}/", {"platelets": "160", "expected_version": 1,
                                                    "reason": "Lab value transcribed wrongly"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["total"] == 0
    later = client.get(f"{URL}{day2['id']}/").json()
    assert later["total"] == 0 and later["version"] == 2
    history = client.get(f"{URL}{day2['id']}/history/").json()
    change = [h for h in history if h["field"] == "total" and h["change"] == "changed"]
    assert change and change[0]["old"] == "3" and change[0]["new"] == "0"
    assert "SOFA day 1 changed" in change[0]["reason"] and change[0]["who"] == coordinator.username
    # Retracting day 1 leaves day 2 with nothing to carry forward: counted as normal.
    client.post(f"{URL}{day1['id']}/retract/", {"expected_version": 2, "reason": "Wrong participant"}, format="json")
    assert client.get(f"{URL}{day2['id']}/").json()["imputed"]["coagulation"] == "normal"


def test_site_staff_see_only_their_sites_sofa(api, coordinator, make_randomized, site_b, make_user):
    other = make_randomized(site_b)
    coord_b = make_user(Role.COORDINATOR, sites=[site_b])
    form_id = post(api, coord_b, other, day=1, **FULL_DAY).json()["id"]
    assert api(coordinator).get(f"{URL}{form_id}/").status_code == 404
    assert api(coordinator).get(URL).json()["count"] == 0
    assert post(api, coordinator, other, day=2, **FULL_DAY).status_code == 404


def test_list_costs_a_fixed_number_of_queries(api, coordinator, make_randomized, django_assert_max_num_queries):
    for _ in range(3):
        p = make_randomized()
        for day in (1, 2, 3):
            post(api, coordinator, p, day=day, **FULL_DAY)
    client = api(coordinator)
    with django_assert_max_num_queries(8):
        body = client.get(URL).json()
    assert body["count"] == 9
