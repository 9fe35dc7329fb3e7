"""The endpoints API: per participant, without the arm, scoped to the user's sites."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.sofa import services

pytestmark = pytest.mark.django_db
URL = "/api/v1/endpoints/"


@pytest.fixture
def derived(make_randomized, sofa_totals, give_dose, site_b):
    own, other = make_randomized(), make_randomized(site_b)
    for p in (own, other):
        sofa_totals(p, {1: 10, 2: 8})
        give_dose(p)
        services.endpoint_derive(participant_id=p.pk)
    return own, other


def test_site_staff_read_their_participants_endpoints(api, users, derived):
    own, other = derived
    client = api(users[Role.COORDINATOR])
    body = client.get(URL).json()
    assert body["count"] == 1
    row = client.get(f"{URL}{own.pk}/").json()
    assert row["primary_response"] == "2.000000" and row["responder"] is True and row["mitt"] is True
    assert row["subject_id"] == own.subject_id and row["inputs"]["sofa"]["2"]["total"] == 8
    assert len(row["filled_series"]) == 15
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert api(users[Role.DATA_MANAGER]).get(URL).json()["count"] == 2


def test_no_arm_or_product_anywhere(api, users, derived):
    text = api(users[Role.DATA_MANAGER]).get(URL).content.decode().lower()
    for word in ("arm", "active", "placebo", "anakinra", "interferon", "allocation"):
        assert f'"{word}' not in text and word not in text.replace("alarm", "")


@pytest.mark.parametrize("role", [Role.SPONSOR, Role.STATISTICIAN, Role.PHARMACIST, Role.DSMB, Role.LAB])
def test_other_roles_are_refused(api, users, derived, role):
    assert api(users[role]).get(URL).status_code == 403


def test_list_costs_a_fixed_number_of_queries(api, users, make_randomized, sofa_totals, django_assert_max_num_queries):
    for _ in range(5):
        p = make_randomized()
        sofa_totals(p, {1: 5})
        services.endpoint_derive(participant_id=p.pk)
    client = api(users[Role.DATA_MANAGER])
    with django_assert_max_num_queries(6):
        assert client.get(URL).json()["count"] == 5
