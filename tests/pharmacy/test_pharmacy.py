"""The pharmacist: own site only, what to prepare per trial.md's double-dummy table, records."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.pharmacy.models import Preparation
from ecrf.pharmacy.services import preparation_record
from ecrf.pharmacy.supply import PharmacyPreparation
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import participant_randomize
from ecrf.study.protocol import DEFAULT_PROTOCOL
from tests.support.screening import eligible_participant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("arm", "phenotype", "iv", "sc"), [
    ("active", "MALS", "anakinra", "placebo_sc"),
    ("active", "immunoparalysis", "placebo_iv", "interferon_gamma"),
    ("placebo", "MALS", "placebo_iv", "placebo_sc"),
    ("placebo", "immunoparalysis", "placebo_iv", "placebo_sc"),
])
def test_double_dummy_table(arm, phenotype, iv, sc):
    reqs = PharmacyPreparation().requirements(arm=arm, phenotype=phenotype, protocol=DEFAULT_PROTOCOL)
    assert [(r.route, r.product, r.doses) for r in reqs] == [("iv", iv, 45), ("sc", sc, 8)]
    labels = {PharmacyPreparation().label(subject_id="A-001", route="iv", dose_number=1)}
    assert labels == {"A-001 · IV study drug · dose 1"}


@pytest.fixture
def two_sites(users, site_a, site_b, make_user, allocation):  # noqa: F811
    b_coordinator = make_user(Role.COORDINATOR, sites=[site_b])
    pa = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-1")
    pb = eligible_participant(b_coordinator, users[Role.LAB], site_b, "B-1")
    participant_randomize(actor=users[Role.COORDINATOR], participant=pa)
    participant_randomize(actor=b_coordinator, participant=pb)
    pa.refresh_from_db()
    pb.refresh_from_db()
    return pa, pb


def test_pharmacist_sees_only_own_site(api, client, users, two_sites):
    pa, pb = two_sites
    work = api(users[Role.PHARMACIST]).get("/api/v1/preparations/worklist/").json()
    assert [w["subject_id"] for w in work] == [pa.subject_id]
    assert work[0]["arm"] == Assignment.objects.get(participant_id=pa.pk).slot.arm
    client.force_login(users[Role.PHARMACIST])
    assert client.get(f"/pharmacy/participants/{pa.pk}/").status_code == 200
    assert client.get(f"/pharmacy/participants/{pb.pk}/").status_code == 404
    assert pb.subject_id not in client.get("/pharmacy/").content.decode()
    with pytest.raises(DomainError) as info:
        preparation_record(actor=users[Role.PHARMACIST], participant=pb, route="iv", product="placebo_iv", lot="L1")
    assert info.value.status == 404
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.DATA_MANAGER, Role.ADMIN, Role.STATISTICIAN):
        assert api(users[role]).get("/api/v1/preparations/").status_code == 403, role
        assert api(users[role]).get("/api/v1/preparations/worklist/").status_code == 403, role


def test_record_preparations(api, users, two_sites):
    pa, _ = two_sites
    a = Assignment.objects.get(participant_id=pa.pk)
    iv, sc = PharmacyPreparation().requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=DEFAULT_PROTOCOL)
    client = api(users[Role.PHARMACIST])
    wrong = "anakinra" if iv.product != "anakinra" else "placebo_iv"
    response = client.post("/api/v1/preparations/", {"participant": pa.pk, "route": "iv", "product": wrong, "lot": "L1"},
                           format="json")
    assert response.status_code == 400 and "product" in response.json()["error"]["fields"]
    response = client.post("/api/v1/preparations/", {"participant": pa.pk, "route": "iv", "product": iv.product, "lot": ""},
                           format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/preparations/", {"participant": pa.pk, "route": "iv", "product": iv.product, "lot": "L1"},
                           format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["dose_number"] == 1 and body["label"] == f"{pa.subject_id} · IV study drug · dose 1"
    assert body["dose"] == iv.dose and body["prepared_by"] == users[Role.PHARMACIST].username
    response = client.post("/api/v1/preparations/", {"participant": pa.pk, "route": "sc", "product": sc.product, "lot": "S9"},
                           format="json")
    assert response.status_code == 201
    assert Preparation.objects.filter(participant=pa).count() == 2
    assert client.get("/api/v1/preparations/worklist/").json()[0]["requirements"][0]["prepared"] == 1


def test_pharmacists_enter_no_crf_data(api, users, two_sites):
    pa, _ = two_sites
    response = api(users[Role.PHARMACIST]).post("/api/v1/screening-log/", {}, format="json")
    assert response.status_code == 403
    assert api(users[Role.PHARMACIST]).post(f"/api/v1/participants/{pa.pk}/randomize/").status_code == 403


def test_the_pharmacist_prepares_a_days_doses_in_one_step(client, users, two_sites):
    pa, _ = two_sites  # randomized just now: IV doses at 0, 8 and 16 h and SC dose 1 fall in the next 24 hours
    a = Assignment.objects.get(participant_id=pa.pk)
    iv, sc = PharmacyPreparation().requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=DEFAULT_PROTOCOL)
    client.force_login(users[Role.PHARMACIST])
    url = f"/pharmacy/participants/{pa.pk}/"
    page = client.get(url).content.decode()
    assert 'name="day-iv_count" value="3"' in page and 'name="day-sc_count" value="1"' in page
    assert "placebo_iv" not in page.replace('value="placebo_iv"', "")  # products in words, codes only as option values
    # A missing lot refuses the whole day: nothing is recorded.
    refused = client.post(url, {"prepare_day": "1", "day-iv_count": "3", "day-iv_lot": "IV-9", "day-sc_count": "1", "day-sc_lot": ""})
    assert refused.status_code == 200 and "lot number of the SC product" in refused.content.decode()
    assert not Preparation.objects.exists()
    done = client.post(url, {"prepare_day": "1", "day-iv_count": "3", "day-iv_lot": "IV-9", "day-sc_count": "1", "day-sc_lot": "SC-4"})
    assert done.status_code == 302
    made = list(Preparation.objects.filter(participant=pa).order_by("route", "dose_number").values_list("route", "dose_number", "product", "lot"))
    assert made == [("iv", 1, iv.product, "IV-9"), ("iv", 2, iv.product, "IV-9"), ("iv", 3, iv.product, "IV-9"),
                    ("sc", 1, sc.product, "SC-4")]
    # The next day's suggestion starts from the next dose to prepare: IV doses 4 to 6, and SC dose 2
    # (due 48 h after the first) is not yet in that day.
    again = client.get(url).content.decode()
    assert 'name="day-iv_count" value="3"' in again and 'name="day-sc_count" value="0"' in again
