"""The screening API: the log entry, the outcome names, the boundary table through the lab API,
bad input with specific errors and nothing stored, and site scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.crf.models import Participant
from ecrf.screening.models import CentralLabResult, Screening
from tests.support.screening import consent, screen

pytestmark = pytest.mark.django_db
NOW = timezone.now


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def entry(**overrides):
    body = {"site": "A", "screening_number": "A-001", "sepsis3_at": iso(NOW() - dt.timedelta(hours=3)),
            "admission_route": "emergency_department", "sofa_score_or_rise": 5, "age": 70, "sex": "male",
            "infection_source": "HAP", "covid19": False, "neutrophils_per_mm3": 8000, "corticosteroid_mg_per_day": "0",
            "excl_pyelonephritis": False, "excl_intra_abdominal": False, "excl_meningitis": False,
            "excl_skin_soft_tissue": False, "excl_skin_commensal_bacteremia": False,
            "excl_catheter_related_bacteremia": False, "excl_stage_iv_malignancy": False, "excl_dnr": False,
            "submit": True}
    body.update(overrides)
    return body


def lab_body(participant, ferritin=None, hla_dr=None, **extra):
    sampled = NOW() - dt.timedelta(minutes=60)
    body = {"participant": participant.pk}
    if ferritin is not None:
        body.update(ferritin=ferritin, ferritin_sampled_at=iso(sampled), ferritin_resulted_at=iso(sampled + dt.timedelta(minutes=20)))
    if hla_dr is not None:
        body.update(hla_dr=hla_dr, hla_dr_sampled_at=iso(sampled), hla_dr_resulted_at=iso(sampled + dt.timedelta(minutes=20)))
    body.update(extra)
    return body


def test_log_entry_through_the_api(api, users, site_a):
    response = api(users[Role.COORDINATOR]).post("/api/v1/screening-log/", entry(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["site"] == "A" and body["screening_number"] == "A-001" and body["status"] == "submitted"
    assert body["eligibility"] == "pending" and body["phenotype"] is None and body["ineligibility_reasons"] == []
    assert Participant.objects.get(pk=body["participant"]).screening_number == "A-001"
    listed = api(users[Role.COORDINATOR]).get("/api/v1/screening-log/").json()["results"]
    assert [r["screening_number"] for r in listed] == ["A-001"]
    # The generic form resource reads and corrects the same form.
    form = api(users[Role.COORDINATOR]).get(f"/api/v1/screenings/{body['id']}/").json()
    assert form["eligibility"] == "pending"


@pytest.mark.parametrize(
    ("ferritin", "hla_dr", "eligibility", "phenotype", "reasons"),
    [
        ("4420", 4999, "eligible", "immunoparalysis", []),  # exactly 4420 is not MALS
        ("4420", 5000, "not_eligible", None, ["phenotype_neither"]),  # exactly 5000 is not immunoparalysis
        ("4420.1", 5000, "eligible", "MALS", []),
        ("4421", 1200, "eligible", "MALS", []),  # both definitions met: MALS
        ("4420", None, "pending", None, []),  # HLA-DR awaited with ferritin <= 4420
        ("4420.1", None, "eligible", "MALS", []),  # above 4420 HLA-DR does not matter
        (None, 1200, "pending", None, []),
    ],
)
def test_phenotype_boundary_table_through_the_api(api, users, site_a, ferritin, hla_dr, eligibility, phenotype, reasons):
    participant = screen(users[Role.COORDINATOR], site_a, "A-050").participant
    consent(users[Role.COORDINATOR], participant)
    response = api(users[Role.LAB]).post("/api/v1/lab-results/", lab_body(participant, ferritin, hla_dr, submit=True), format="json")
    assert response.status_code == 201, response.json()
    screening = api(users[Role.COORDINATOR]).get("/api/v1/screening-log/").json()["results"][0]
    assert (screening["eligibility"], screening["phenotype"], screening["ineligibility_reasons"]) == (
        eligibility, phenotype, reasons)
    if eligibility == "pending":
        assert ("hla_dr" if hla_dr is None else "ferritin") in screening["awaiting"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ferritin": "-5"}, "ferritin"),
        ({"ferritin": "lots"}, "ferritin"),
        ({"ferritin": "900000"}, "ferritin"),
        ({"hla_dr": -1}, "hla_dr"),
        ({"hla_dr": "many"}, "hla_dr"),
        ({"hla_dr": 950000}, "hla_dr"),
        ({"hla_dr": 3000, "hla_dr_sampled_at": None}, "hla_dr_sampled_at"),
        ({"ferritin_unit": "mmol/L"}, "ferritin_unit"),
    ],
)
def test_impossible_lab_values_are_refused_and_nothing_stored(api, users, site_a, extra, field):
    participant = screen(users[Role.COORDINATOR], site_a, "A-060").participant
    consent(users[Role.COORDINATOR], participant)
    body = lab_body(participant, "900", 3000)
    body.update(extra)
    if body.get("hla_dr_sampled_at") is None:
        body.pop("hla_dr_sampled_at", None)
    response = api(users[Role.LAB]).post("/api/v1/lab-results/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert not CentralLabResult.objects.exists()
    assert Screening.objects.get().eligibility == "pending"


def test_sampling_before_consent_is_refused(api, users, site_a):
    participant = screen(users[Role.COORDINATOR], site_a, "A-070").participant
    response = api(users[Role.LAB]).post("/api/v1/lab-results/", lab_body(participant, "900", 3000), format="json")
    assert response.status_code == 400
    assert "no consent is recorded" in response.json()["error"]["fields"]["ferritin_sampled_at"][0]
    consent(users[Role.COORDINATOR], participant, at=NOW() - dt.timedelta(minutes=30))
    response = api(users[Role.LAB]).post("/api/v1/lab-results/", lab_body(participant, "900", 3000), format="json")
    assert response.status_code == 400
    assert "Sampling before consent" in response.json()["error"]["fields"]["ferritin_sampled_at"][0]
    assert not CentralLabResult.objects.exists()


def test_unknown_infection_source_and_duplicate_number(api, users, site_a):
    client = api(users[Role.COORDINATOR])
    response = client.post("/api/v1/screening-log/", entry(infection_source="UTI"), format="json")
    assert response.status_code == 400 and "infection_source" in response.json()["error"]["fields"]
    assert client.post("/api/v1/screening-log/", entry(), format="json").status_code == 201
    response = client.post("/api/v1/screening-log/", entry(), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["screening_number"] == ["Already used at this site."]
    assert Participant.objects.count() == 1 and Screening.objects.count() == 1


def test_client_cannot_set_the_outcome(api, users, site_a):
    response = api(users[Role.COORDINATOR]).post("/api/v1/screening-log/", entry(eligibility="eligible"), format="json")
    assert response.status_code == 400 and "eligibility" in response.json()["error"]["fields"]
    assert not Participant.objects.exists()


def test_site_staff_read_lab_results_but_cannot_enter_them(api, users, site_a, site_b, make_user):
    participant = screen(users[Role.COORDINATOR], site_a, "A-080").participant
    consent(users[Role.COORDINATOR], participant)
    created = api(users[Role.LAB]).post("/api/v1/lab-results/", lab_body(participant, "900", 3000), format="json")
    assert created.status_code == 201
    lab_id = created.json()["id"]
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR):
        client = api(users[role])
        assert client.get(f"/api/v1/lab-results/{lab_id}/").status_code == 200, role
        assert client.post("/api/v1/lab-results/", lab_body(participant, "900", 3000), format="json").status_code == 403, role
        response = client.patch(f"/api/v1/lab-results/{lab_id}/", {"ferritin": "100", "expected_version": 1}, format="json")
        assert response.status_code == 403, role
    # The lab sees every site; site staff of another site see nothing.
    other = make_user(Role.COORDINATOR, sites=[site_b])
    assert api(other).get(f"/api/v1/lab-results/{lab_id}/").status_code == 404
    assert api(users[Role.LAB]).get(f"/api/v1/lab-results/{lab_id}/").status_code == 200


def test_report_api(api, users, site_a, site_b, make_user):
    coordinator = users[Role.COORDINATOR]
    screen(coordinator, site_a, "A-1", age=17)
    screen(coordinator, site_a, "A-2", infection_source="other", age=15)
    screen(coordinator, site_a, "A-3")
    screen(make_user(Role.COORDINATOR, sites=[site_b]), site_b, "B-1", age=16)
    site_view = api(coordinator).get("/api/v1/screening-report/").json()
    assert site_view["total"] is None
    assert site_view["sites"] == [{"site": "A", "screened": 3, "rescreenings": 0, "pending": 1, "not_eligible": 2,
                                   "not_eligible_by_reason": {"age_under_18": 2, "infection_source_not_eligible": 1},
                                   "eligible": 0, "eligible_by_phenotype": {}, "consented": 0, "eligible_consented": 0, "randomized": 0, "dosed": 0}]
    central = api(users[Role.DATA_MANAGER]).get("/api/v1/screening-report/").json()
    assert [r["site"] for r in central["sites"]] == ["A", "B"]
    assert central["total"]["screened"] == 4 and central["total"]["not_eligible_by_reason"]["age_under_18"] == 3
    assert api(users[Role.ADMIN]).get("/api/v1/screening-report/").status_code == 403
