"""The death contract other apps rely on, and the death form's rules."""

from __future__ import annotations

import pytest

from ecrf.outcomes.selectors import death_days, death_for
from tests.support.times import athens

pytestmark = pytest.mark.django_db
URL = "/api/v1/deaths/"


def test_death_for_returns_submitted_death_with_study_day(api, coordinator, randomized, make_randomized):
    client = api(coordinator)
    r = client.post(URL, {"participant": randomized.pk, "died_at": athens(2025, 3, 14, 23, 30).isoformat(),
                          "cause": "Refractory septic shock"}, format="json")
    assert r.status_code == 201, r.json()
    assert death_for(randomized) is None  # a draft is not a death yet
    assert client.post(f"{URL}{r.json()['id']}/submit/", {"expected_version": 1}, format="json").status_code == 200
    death = death_for(randomized)
    assert death.study_day == 5 and death.died_at == athens(2025, 3, 14, 23, 30)
    alive = make_randomized(athens(2025, 3, 10, 9, 0))
    assert death_days([randomized.pk, alive.pk]) == {randomized.pk: 5}
    client.post(f"{URL}{death.pk}/retract/", {"expected_version": 2, "reason": "Wrong participant"}, format="json")
    assert death_for(randomized) is None and death_days([randomized.pk]) == {}


def test_death_before_randomization_and_second_death_are_400(api, coordinator, randomized):
    client = api(coordinator)
    r = client.post(URL, {"participant": randomized.pk, "died_at": athens(2025, 3, 10, 9, 0).isoformat(), "cause": "x"}, format="json")
    assert r.status_code == 400 and "died_at" in r.json()["error"]["fields"]
    ok = {"participant": randomized.pk, "died_at": athens(2025, 3, 11, 9, 0).isoformat(), "cause": "x"}
    assert client.post(URL, ok, format="json").status_code == 201
    assert client.post(URL, ok, format="json").status_code == 400


def test_death_study_day_uses_site_zone(api, coordinator, make_randomized, site_a):
    # Randomized 23:00 Athens on 10 March (21:00 UTC): death 01:00 Athens on 11 March is day 2.
    p = make_randomized(athens(2025, 3, 10, 23, 0))
    r = api(coordinator).post(URL, {"participant": p.pk, "died_at": "2025-03-10T23:00:00Z", "cause": "x"}, format="json")
    assert r.status_code == 201 and r.json()["study_day"] == 2
