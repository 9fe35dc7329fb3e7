"""Administration rules through the API: the refusals and their messages."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.deviations.models import Deviation
from ecrf.dosing import selectors
from ecrf.dosing.models import Administration
from ecrf.outcomes.specs import DEATH
from ecrf.schedule import adapters
from tests.support.screening import withdraw
from tests.support.stages import randomized as randomize
from tests.support.times import athens, iv, sc

pytestmark = pytest.mark.django_db
URL = "/api/v1/administrations/"


def post(api, user, participant, payload):
    return api(user).post(URL, {"participant": participant.pk, **payload}, format="json")


def test_given_dose_is_recorded_with_its_study_day(api, coordinator, randomized):
    response = post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1, submit=True))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["study_day"] == 1 and body["status"] == "submitted"
    assert selectors.first_dose_at(randomized) == athens(2025, 3, 10, 10, 30)
    assert selectors.received_any_dose(randomized)
    assert selectors.first_doses([randomized.pk]) == {randomized.pk: athens(2025, 3, 10, 10, 30)}


def test_draft_dose_does_not_count_as_received(api, coordinator, randomized):
    assert post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1)).status_code == 201
    assert selectors.first_dose_at(randomized) is None and not selectors.received_any_dose(randomized)


def test_first_dose_either_route(api, coordinator, randomized):
    post(api, coordinator, randomized, iv(athens(2025, 3, 10, 11, 0), 1, submit=True))
    post(api, coordinator, randomized, sc(athens(2025, 3, 10, 10, 40), 1, submit=True))
    assert selectors.first_dose_at(randomized) == athens(2025, 3, 10, 10, 40)


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (iv(athens(2025, 3, 10, 9, 59), 1), "started_at", "before randomization"),
        (iv(athens(2025, 3, 10, 10, 30), 46), "dose_number", "doses 1 to 45"),
        (sc(athens(2025, 3, 10, 10, 30), 9), "dose_number", "doses 1 to 8"),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "volume_ml": None}, "volume_ml", "Required"),
        ({"route": "iv", "dose_number": 1, "given": False}, "reason_not_given", "reason"),
        ({"route": "iv", "dose_number": 1, "given": False, "reason_not_given": "other"}, "reason_other", "other reason"),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "reason_not_given": "death"}, "reason_not_given", "not given"),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "route": "im"}, "route", "valid choice"),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "started_at": "yesterday"}, "started_at", ""),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "product": "anakinra"}, "product", ""),
        ({**iv(athens(2025, 3, 10, 10, 30), 1), "interruption_minutes": 5}, "interrupted", "interrupted"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, coordinator, randomized, payload, field, words):
    response = post(api, coordinator, randomized, payload)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["fields"], error
    assert words.lower() in " ".join(error["fields"][field]).lower() or words.lower() in error["message"].lower()
    assert not Administration.objects.exists()


def test_second_record_for_one_scheduled_dose_is_refused(api, coordinator, randomized):
    assert post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1)).status_code == 201
    response = post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 45), 1))
    assert response.status_code == 400 and "dose_number" in response.json()["error"]["fields"]
    assert Administration.objects.count() == 1


def test_dose_after_treatment_day_15_is_refused(api, coordinator, randomized):
    first = athens(2025, 3, 10, 10, 30)
    assert post(api, coordinator, randomized, iv(first, 1, submit=True)).status_code == 201
    response = post(api, coordinator, randomized, iv(first + dt.timedelta(hours=360, minutes=5), 45))
    assert response.status_code == 400
    assert "end of treatment" in response.json()["error"]["fields"]["started_at"][0]
    # Dose 45 within the 15 x 24 h is accepted.
    assert post(api, coordinator, randomized, iv(first + dt.timedelta(hours=352), 45)).status_code == 201


def test_dose_after_death_is_refused(api, coordinator, randomized):
    form_create(actor=coordinator, spec=DEATH, participant=randomized,
                data={"died_at": athens(2025, 3, 14, 6, 0), "cause": "Septic shock"}, submit=True)
    ok = post(api, coordinator, randomized, iv(athens(2025, 3, 14, 2, 0), 12))
    assert ok.status_code == 201, ok.json()
    response = post(api, coordinator, randomized, iv(athens(2025, 3, 14, 10, 0), 13))
    assert response.status_code == 400 and "death" in response.json()["error"]["fields"]["started_at"][0]
    # A dose not given because of death is recorded without a deviation; the only deviation is
    # that dose 12, the first one given, came 112 h after the Sepsis-3 onset of the screening.
    assert post(api, coordinator, randomized, {"route": "iv", "dose_number": 14, "given": False,
                                               "reason_not_given": "death"}).status_code == 201
    assert list(Deviation.objects.values_list("rule_code", flat=True)) == ["late_first_dose"]


def test_dose_after_withdrawal_from_treatment_is_refused(api, coordinator, screened):
    withdraw(coordinator, screened, "treatment", dt.date(2025, 3, 12))  # through the consent service
    assert post(api, coordinator, screened, iv(athens(2025, 3, 12, 20, 0), 2)).status_code == 201
    response = post(api, coordinator, screened, iv(athens(2025, 3, 13, 4, 0), 3))
    assert response.status_code == 400 and "withdrew" in response.json()["error"]["fields"]["started_at"][0]
    assert Administration.objects.count() == 1


def test_dose_after_discontinuation_of_that_route_is_refused(api, coordinator, randomized):
    client = api(coordinator)
    r = client.post("/api/v1/discontinuations/", {"participant": randomized.pk, "route": "sc", "discontinued_on": "2025-03-11",
                                                  "discontinuation_reason": "adverse_event", "submit": True}, format="json")
    assert r.status_code == 201, r.json()
    assert post(api, coordinator, randomized, sc(athens(2025, 3, 12, 10, 0), 2)).status_code == 400
    assert post(api, coordinator, randomized, iv(athens(2025, 3, 12, 10, 0), 7)).status_code == 201


def test_administration_before_randomization_of_unrandomized_participant(api, coordinator, make_participant):
    p = make_participant()
    response = post(api, coordinator, p, iv(athens(2025, 3, 10, 10, 30), 1))
    assert response.status_code == 409 and "randomization" in response.json()["error"]["message"]


def _screened(users, coordinator, site_a, sepsis3_at):
    return randomize(site_a, actor=coordinator, lab_user=users[Role.LAB], number="SCR-7001", sepsis3_at=sepsis3_at,
                     at=athens(2025, 3, 10, 10, 0))


def test_late_first_dose_is_accepted_and_raises_a_deviation(api, users, coordinator, site_a):
    # Sepsis-3 recorded at screening 72 h before the 10:30 first dose... plus 30 minutes.
    randomized = _screened(users, coordinator, site_a, athens(2025, 3, 7, 10, 0))
    assert adapters.sepsis3_at_for(randomized) == athens(2025, 3, 7, 10, 0)
    response = post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1, submit=True))
    assert response.status_code == 201
    deviation = Deviation.objects.get()
    assert deviation.rule_code == "late_first_dose" and deviation.found_by == "system"
    assert "72.5 h" in deviation.description
    # Idempotent: a later dose raises nothing more; the deviation is visible through the API.
    post(api, coordinator, randomized, iv(athens(2025, 3, 10, 18, 30), 2, submit=True))
    assert Deviation.objects.count() == 1
    listed = api(coordinator).get("/api/v1/deviations/").json()["results"]
    assert [d["rule_code"] for d in listed] == ["late_first_dose"]


def test_first_dose_within_72_hours_raises_nothing(api, users, coordinator, site_a):
    randomized = _screened(users, coordinator, site_a, athens(2025, 3, 7, 11, 0))
    assert post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1, submit=True)).status_code == 201
    assert not Deviation.objects.exists()


def test_missed_dose_raises_a_deviation(api, coordinator, randomized):
    post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1, submit=True))
    r = post(api, coordinator, randomized, {"route": "iv", "dose_number": 2, "given": False,
                                            "reason_not_given": "preparation_unavailable", "submit": True})
    assert r.status_code == 201, r.json()
    deviation = Deviation.objects.get()
    assert deviation.rule_code == "missed_dose:iv:2" and deviation.category == "missed_dose"
    assert "IV study drug dose 2" in deviation.description


def test_other_site_and_readers(api, users, randomized, make_user, site_b):
    other = make_user(Role.COORDINATOR, sites=[site_b])
    assert post(api, other, randomized, iv(athens(2025, 3, 10, 10, 30), 1)).status_code == 404
    assert post(api, users[Role.MONITOR], randomized, iv(athens(2025, 3, 10, 10, 30), 1)).status_code == 403
    assert post(api, users[Role.PHARMACIST], randomized, iv(athens(2025, 3, 10, 10, 30), 1)).status_code == 403
    assert not Administration.objects.exists()


def test_api_never_names_a_product(api, coordinator, randomized):
    post(api, coordinator, randomized, iv(athens(2025, 3, 10, 10, 30), 1))
    text = api(coordinator).options(URL).content.decode() + api(coordinator).get(URL).content.decode()
    for product in ("anakinra", "interferon", "placebo", "saline"):
        assert product not in text.lower()
