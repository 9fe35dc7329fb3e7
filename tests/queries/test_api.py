"""The queries API: contract, scope, errors in the project's format, and a fixed query count."""

from __future__ import annotations

import pytest

from ecrf.queries import services
from ecrf.queries.models import CheckRun, Query, QueryMessage, RunTrigger
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def dm(users):
    return users["data_manager"]


def _raise(api, dm, vitals_form, **extra):  # noqa: ANN001, ANN003, ANN202
    body = {"form": "testapp.vitals", "form_id": vitals_form.pk, "field": "heart_rate",
            "text": "Please confirm the heart rate.", **extra}
    return api(dm).post("/api/v1/queries/", body, format="json")


def test_the_manual_cycle_through_the_api(api, dm, coordinator, participant_a, vitals):
    form = vitals(participant_a, heart_rate=170)
    created = _raise(api, dm, form)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["draft"] and body["state"] == "open" and body["form_label"] == "Vital signs (test form)"
    assert body["field_label"] == "heart rate (/min)" and body["site"] == "A" and body["raised_by"] == dm.username
    pk = body["id"]
    assert api(coordinator).get(f"/api/v1/queries/{pk}/").status_code == 404  # a draft is not the site's
    assert api(dm).post(f"/api/v1/queries/{pk}/release/").status_code == 200
    again = api(dm).post(f"/api/v1/queries/{pk}/release/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "query_already_released"
    answered = api(coordinator).post(f"/api/v1/queries/{pk}/answer/", {"text": "170 is right."}, format="json")
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    no_text = api(dm).post(f"/api/v1/queries/{pk}/close/", {}, format="json")
    assert no_text.status_code == 400
    assert no_text.json()["error"]["code"] == "query_text_required" and "text" in no_text.json()["error"]["fields"]
    assert Query.objects.get(pk=pk).state == "answered"
    closed = api(dm).post(f"/api/v1/queries/{pk}/close/", {"text": "Thanks."}, format="json")
    assert closed.json()["state"] == "closed"
    late = api(coordinator).post(f"/api/v1/queries/{pk}/answer/", {"text": "More."}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "query_not_open"
    thread = api(coordinator).get(f"/api/v1/queries/{pk}/messages/").json()
    assert [m["kind"] for m in thread] == ["released", "answer", "closed"]  # the raise was internal (a draft)
    posted = api(dm).post(f"/api/v1/queries/{pk}/reopen/", {"text": "Source says 107."}, format="json")
    assert posted.json()["state"] == "open"
    msg = api(coordinator).post(f"/api/v1/queries/{pk}/messages/", {"text": "Checking."}, format="json")
    assert msg.status_code == 201 and msg.json()["author"] == coordinator.username
    cancelled = api(dm).post(f"/api/v1/queries/{pk}/cancel/", {"text": "Duplicate."}, format="json")
    assert cancelled.json()["state"] == "cancelled"


def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(api, dm, coordinator, participant_a, vitals):
    form = vitals(participant_a)
    cases = [
        ({"field": "weight"}, 400, "query_unknown_field"),
        ({"form": "nope"}, 400, "invalid"),
        ({"form_id": 999999}, 404, "not_found"),
        ({"text": ""}, 400, "query_text_required"),
        ({"arm": "x"}, 400, None),
    ]
    for extra, status, code in cases:
        response = _raise(api, dm, form, **extra)
        assert response.status_code == status, (extra, response.content)
        if code:
            assert response.json()["error"]["code"] == code
    assert _raise(api, coordinator, form).status_code == 403
    assert api(dm).get("/api/v1/queries/?state=bogus").status_code == 400
    assert Query.objects.count() == 0 and QueryMessage.objects.count() == 0


def test_roles_without_queries_are_refused(api, users):
    for role in ("sponsor", "pharmacist", "statistician", "admin", "safety_officer"):
        assert api(users[role]).get("/api/v1/queries/").status_code == 403, role
    assert api(users["monitor"]).get("/api/v1/check-runs/").status_code == 403
    assert api(users["coordinator"]).get("/api/v1/checks/").status_code == 403
    assert api(None).get("/api/v1/queries/").status_code == 401


def test_filters_and_a_fixed_number_of_database_queries(api, dm, make_participant, make_user, site_b, vitals,
                                                       django_assert_num_queries):
    staff_b = make_user("coordinator", sites=[site_b])

    def add(site, n):  # noqa: ANN001, ANN202
        for _ in range(n):
            form = vitals(make_participant(site), heart_rate=170, actor=staff_b if site else None)
            services.query_raise(actor=dm, spec=VITALS, form=form, field="heart_rate", text="?")

    add(None, 1)
    client = api(dm)
    # The count and the page (roles are cached on the authenticated user): whatever the number of rows.
    with django_assert_num_queries(2):
        assert client.get("/api/v1/queries/").json()["count"] == 1
    add(site_b, 4)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/queries/").json()["count"] == 5
    assert client.get("/api/v1/queries/?site=B").json()["count"] == 4
    assert client.get("/api/v1/queries/?check=manual&draft=yes&state=open&max_age=0").json()["count"] == 5
    assert client.get("/api/v1/queries/?min_age=1").json()["count"] == 0
    assert client.get("/api/v1/queries/?form=sofa.sofa_day").json()["count"] == 0


def test_check_runs_and_catalogue(api, dm, test_checks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(dm).post("/api/v1/check-runs/", {}, format="json")
    assert response.status_code == 202 and response.json()["state"] == "queued" and len(callbacks) == 1
    busy = api(dm).post("/api/v1/check-runs/", {}, format="json")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "check_run_in_progress"
    run = CheckRun.objects.get()
    services.checks_run(trigger=RunTrigger.ON_DEMAND, run=run)
    detail = api(dm).get(f"/api/v1/check-runs/{run.pk}/").json()
    assert detail["state"] == "done" and detail["progress_percent"] == 100 and detail["checks_done"] == 2
    catalogue = api(dm).get("/api/v1/checks/").json()
    assert [c["code"] for c in catalogue] == ["TEST-001", "TEST-002"]
    assert catalogue[0]["fields"] == ["heart_rate"] and catalogue[0]["severity"] == "soft"
    assert catalogue[0]["rationale"].startswith("Tachycardia")
