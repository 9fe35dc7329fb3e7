"""The CRF core through the API of a form declared only in the test suite."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.models import EntryStatus, LockScope
from tests.testapp.models import VitalSigns

pytestmark = pytest.mark.django_db
URL = "/api/v1/test-vitals/"
GOOD = {"measured_on": "2026-11-20", "temperature": "38.4", "heart_rate": 110, "notes": "febrile"}


def create(api, user, participant, **extra):
    return api(user).post(URL, {"participant": participant.pk, **GOOD, **extra}, format="json")


def test_create_derives_on_server_and_records_history(api, coordinator, participant_a):
    response = create(api, coordinator, participant_a)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fever"] is True and body["status"] == "draft" and body["version"] == 1
    form = VitalSigns.objects.get(pk=body["id"])
    record = form.history.get()
    assert record.history_user == coordinator and record.history_change_reason == "Created"


def test_client_cannot_set_derived_field(api, coordinator, participant_a):
    response = create(api, coordinator, participant_a, fever=False)
    assert response.status_code == 400
    assert "fever" in response.json()["error"]["fields"]
    assert not VitalSigns.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"temperature": "abc"}, "temperature"),
        ({"temperature": "60"}, "temperature"),
        ({"heart_rate": -3}, "heart_rate"),
        ({"heart_rate": "fast"}, "heart_rate"),
        ({"colour": "red"}, "colour"),
        ({"measured_on": "2026-13-45"}, "measured_on"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, coordinator, participant_a, payload, field):
    response = create(api, coordinator, participant_a, **payload)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"] and error["message"]
    assert not VitalSigns.objects.exists()


def test_invalid_json_is_400(api, coordinator, participant_a):
    response = api(coordinator).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_second_form_for_same_day_is_refused(api, coordinator, participant_a):
    assert create(api, coordinator, participant_a).status_code == 201
    response = create(api, coordinator, participant_a)
    assert response.status_code == 400
    assert "measured_on" in response.json()["error"]["fields"]
    assert VitalSigns.objects.count() == 1


def test_every_field_change_is_in_history_with_user_and_reason(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a, submit=True).json()["id"]
    client = api(coordinator)
    response = client.patch(f"{URL}{form_id}/", {"heart_rate": 95, "temperature": "37.2", "expected_version": 1,
                                                  "reason": "Transcription error"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["fever"] is False and response.json()["version"] == 2
    history = client.get(f"{URL}{form_id}/history/").json()
    changes = {(h["field"], h["old"], h["new"], h["reason"], h["who"]) for h in history if h["change"] == "changed"}
    assert ("heart_rate", "110", "95", "Transcription error", coordinator.username) in changes
    assert ("temperature", "38.4", "37.2", "Transcription error", coordinator.username) in changes
    assert ("fever", "True", "False", "Transcription error", coordinator.username) in changes


def test_change_after_submission_without_reason_is_refused(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a, submit=True).json()["id"]
    response = api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 95, "expected_version": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reason_required"
    form = VitalSigns.objects.get(pk=form_id)
    assert form.heart_rate == 110 and form.version == 1 and form.history.count() == 1


def test_draft_change_needs_no_reason(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a).json()["id"]
    response = api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 95, "expected_version": 1}, format="json")
    assert response.status_code == 200


def test_stale_write_gets_409_and_writes_nothing(api, coordinator, participant_a, make_user):
    other = make_user(Role.INVESTIGATOR)
    form_id = create(api, coordinator, participant_a).json()["id"]
    assert api(other).patch(f"{URL}{form_id}/", {"heart_rate": 90, "expected_version": 1}, format="json").status_code == 200
    response = api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 80, "expected_version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"
    form = VitalSigns.objects.get(pk=form_id)
    assert form.heart_rate == 90 and form.version == 2 and form.history.count() == 2


def test_missing_version_on_change_is_400(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a).json()["id"]
    response = api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 80}, format="json")
    assert response.status_code == 400 and "version" in response.json()["error"]["fields"]


def test_delete_is_refused_and_retraction_needs_reason(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a, submit=True).json()["id"]
    client = api(coordinator)
    response = client.delete(f"{URL}{form_id}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "delete_refused"
    assert VitalSigns.objects.filter(pk=form_id).exists()
    assert client.post(f"{URL}{form_id}/retract/", {"expected_version": 1, "reason": ""}, format="json").status_code == 400
    response = client.post(f"{URL}{form_id}/retract/", {"expected_version": 1, "reason": "Wrong participant"}, format="json")
    assert response.status_code == 200
    form = VitalSigns.objects.get(pk=form_id)
    assert form.status == EntryStatus.RETRACTED and form.status_reason == "Wrong participant"
    assert form.history.first().history_change_reason == "Wrong participant"
    # A retracted entry changes no more, and its day is free for a correct entry.
    assert client.patch(f"{URL}{form_id}/", {"heart_rate": 1, "expected_version": 2, "reason": "x"}, format="json").status_code == 409
    assert create(api, coordinator, participant_a).status_code == 201


def test_orm_delete_is_refused(coordinator, participant_a, api):
    from ecrf.core.errors import DomainError

    form_id = create(api, coordinator, participant_a).json()["id"]
    with pytest.raises(DomainError):
        VitalSigns.objects.get(pk=form_id).delete()
    with pytest.raises(DomainError):
        VitalSigns.objects.all().delete()
    assert VitalSigns.objects.count() == 1


def test_not_done_with_reason(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a).json()["id"]
    response = api(coordinator).post(f"{URL}{form_id}/not-done/", {"expected_version": 1, "reason": "Patient in CT"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "not_done"


@pytest.mark.parametrize("level", ["study", "site", "participant", "form"])
def test_write_under_lock_scope_is_refused_through_api(api, coordinator, participant_a, level, users):
    form_id = create(api, coordinator, participant_a).json()["id"]
    form = VitalSigns.objects.get(pk=form_id)
    from django.contrib.contenttypes.models import ContentType

    target = {"study": {}, "site": {"site": participant_a.site}, "participant": {"participant": participant_a},
              "form": {"form_type": ContentType.objects.get_for_model(VitalSigns), "form_id": form_id}}[level]
    LockScope.objects.create(level=level, kind="lock", reason="Interim lock", **target)
    client = api(coordinator)
    response = client.patch(f"{URL}{form_id}/", {"heart_rate": 70, "expected_version": 1}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "locked"
    assert client.post(f"{URL}{form_id}/retract/", {"expected_version": 1, "reason": "x"}, format="json").status_code == 409
    if level != "form":
        assert create(api, coordinator, participant_a, measured_on="2026-11-21").status_code == 409
    form.refresh_from_db()
    assert form.heart_rate == 110 and form.version == 1


def test_released_scope_allows_writes_again(api, coordinator, participant_a):
    form_id = create(api, coordinator, participant_a).json()["id"]
    scope = LockScope.objects.create(level="participant", kind="freeze", participant=participant_a)
    assert api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 70, "expected_version": 1}, format="json").status_code == 409
    from django.utils import timezone

    scope.released_at = timezone.now()
    scope.release_reason = "Query resolved"
    scope.save()
    assert api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 70, "expected_version": 1}, format="json").status_code == 200


def test_other_site_participant_is_404_in_api(api, make_user, participant_b, participant_a, coordinator):
    response = create(api, coordinator, participant_b)
    assert response.status_code == 404
    assert api(coordinator).get(f"/api/v1/participants/{participant_b.pk}/").status_code == 404
    assert api(coordinator).get(f"/api/v1/participants/{participant_a.pk}/").status_code == 200
    assert api(coordinator).get("/api/v1/participants/999999/").status_code == 404
    ids = [p["id"] for p in api(coordinator).get("/api/v1/participants/").json()["results"]]
    assert ids == [participant_a.pk]
    # Someone else's form at site B is 404 too, for reads and writes.
    b_user = make_user(Role.COORDINATOR, sites=[participant_b.site])
    form_id = create(api, b_user, participant_b).json()["id"]
    assert api(coordinator).get(f"{URL}{form_id}/").status_code == 404
    assert api(coordinator).patch(f"{URL}{form_id}/", {"heart_rate": 1, "expected_version": 1}, format="json").status_code == 404
    assert VitalSigns.objects.get(pk=form_id).heart_rate == 110


def test_roles_without_entry_rights_are_refused(api, users, participant_a):
    for role in (Role.MONITOR, Role.DATA_MANAGER, Role.SAFETY_OFFICER):
        response = create(api, users[role], participant_a)
        assert response.status_code == 403, role
    for role in (Role.SPONSOR, Role.STATISTICIAN, Role.ADMIN, Role.DSMB):
        response = create(api, users[role], participant_a)
        assert response.status_code in (403, 404), role
    assert not VitalSigns.objects.exists()


def test_list_is_scoped_and_costs_fixed_queries(api, make_user, site_a, site_b, make_participant, django_assert_max_num_queries):
    """Forms at two sites: site A's coordinator lists only site A's, in a fixed number of queries;
    a data manager (all sites) lists both."""
    coordinator_a = make_user(Role.COORDINATOR, sites=[site_a])
    coordinator_b = make_user(Role.COORDINATOR, sites=[site_b])
    own, other = set(), set()
    for day in range(1, 6):
        response = create(api, coordinator_a, make_participant(site_a), measured_on=f"2026-11-{day:02d}")
        assert response.status_code == 201, response.json()
        own.add(response.json()["id"])
    for day in range(1, 4):
        response = create(api, coordinator_b, make_participant(site_b), measured_on=f"2026-11-{day:02d}")
        assert response.status_code == 201, response.json()
        other.add(response.json()["id"])
    client = api(coordinator_a)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    body = response.json()
    assert body["count"] == 5
    assert {row["id"] for row in body["results"]} == own
    everyone = api(make_user(Role.DATA_MANAGER)).get(URL).json()
    assert {row["id"] for row in everyone["results"]} == own | other


def test_unauthenticated_is_401(api, participant_a):
    response = api(None).get(URL)
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_anonymous_api_gets_401_with_token_challenge(api):
    response = api(None).get("/api/v1/participants/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"
