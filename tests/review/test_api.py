"""The review API: locks with the gate, verifications, signatures; errors change nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_update
from ecrf.review import selectors
from ecrf.review.models import Signature, Verification
from tests.conftest import PASSWORD
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


def test_lock_unlock_through_the_api(api, users, coordinator, participant_a, vitals):
    dm = api(users[Role.DATA_MANAGER])
    made = dm.post("/api/v1/locks/", {"kind": "freeze", "level": "form", "form": VITALS.slug, "form_id": vitals.pk,
                                      "reason": "Review"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["form"] == VITALS.slug and made.json()["active"] is True
    patch = api(coordinator).patch(f"/api/v1/{VITALS.slug}/{vitals.pk}/", {"heart_rate": 70, "expected_version": 1, "reason": "x"},
                                   format="json")
    assert patch.status_code == 409 and patch.json()["error"]["code"] == "locked"
    pk = made.json()["id"]
    refused = dm.post(f"/api/v1/locks/{pk}/unlock/", {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["fields"]
    assert LockScope.objects.get(pk=pk).is_active
    done = dm.post(f"/api/v1/locks/{pk}/unlock/", {"reason": "Query answered"}, format="json")
    assert done.status_code == 200 and done.json()["active"] is False and done.json()["release_reason"] == "Query answered"
    assert [s["id"] for s in dm.get("/api/v1/locks/").json()["results"]] == [pk]
    assert api(users[Role.MONITOR]).get("/api/v1/locks/").status_code == 403


def test_the_study_lock_is_refused_with_its_blockers_and_nothing_changes(api, users, randomized):
    dm = api(users[Role.DATA_MANAGER])
    gate = dm.get("/api/v1/locks/gate/").json()
    assert gate["count"] == len(gate["blockers"]) > 0
    events = Event.objects.count()
    refused = dm.post("/api/v1/locks/", {"kind": "lock", "level": "study", "reason": "DB lock"}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "lock_gate_blocked" and error["blockers"] == gate["blockers"]
    assert all(b["url"].startswith("/") for b in error["blockers"])
    assert not LockScope.objects.exists() and Event.objects.count() == events
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        locked = dm.post("/api/v1/locks/", {"kind": "lock", "level": "study", "reason": "DB lock 2026-12"}, format="json")
    assert locked.status_code == 201 and locked.json()["reason"] == "DB lock 2026-12"
    assert Event.objects.filter(kind=EventKind.LOCK, object_id=str(locked.json()["id"])).exists()


def test_verification_api_refuses_a_stale_version_and_lists_staleness(api, users, coordinator, participant_a, vitals):
    monitor = api(users[Role.MONITOR])
    body = {"form": VITALS.slug, "form_id": vitals.pk, "expected_version": vitals.version}
    made = monitor.post("/api/v1/verifications/", body, format="json")
    assert made.status_code == 201 and made.json()["current"] is True and made.json()["version"] == 1
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 88}, version=1, reason="Chart")
    again = monitor.post("/api/v1/verifications/", body, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "stale_version"
    assert Verification.objects.count() == 1
    listed = monitor.get(f"/api/v1/verifications/?participant={participant_a.pk}").json()["results"]
    assert [(r["id"], r["current"], r["version"]) for r in listed] == [(made.json()["id"], False, 1)]
    assert monitor.get("/api/v1/verifications/").status_code == 400
    assert api(coordinator).post("/api/v1/verifications/", body, format="json").status_code == 403
    unknown = monitor.post("/api/v1/verifications/", {**body, "expected_version": 2, "colour": "red"}, format="json")
    assert unknown.status_code == 400 and Verification.objects.count() == 1


def test_signature_api_signs_voids_and_refuses_a_wrong_password(api, users, coordinator, participant_a, vitals):
    investigator = api(users[Role.INVESTIGATOR])
    expected = selectors.casebook_states([participant_a.pk])[participant_a.pk].manifest_hash
    body = {"participant": participant_a.pk, "meaning": "approve", "expected": expected}
    wrong = investigator.post("/api/v1/signatures/", {**body, "password": "not-it"}, format="json")
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "reauthentication_failed"
    assert not Signature.objects.exists()
    made = investigator.post("/api/v1/signatures/", {**body, "password": PASSWORD}, format="json")
    assert made.status_code == 201 and made.json()["meaning_text"] == "I approve the data of this casebook"
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 90}, version=1, reason="Chart")
    listed = investigator.get(f"/api/v1/signatures/?participant={participant_a.pk}").json()["results"]
    assert [(s["id"], s["void"]) for s in listed] == [(made.json()["id"], True)]
    form_sig = investigator.post("/api/v1/signatures/", {**body, "form": VITALS.slug, "form_id": vitals.pk, "expected": "2",
                                                         "password": PASSWORD}, format="json")
    assert form_sig.status_code == 201 and form_sig.json()["level"] == "form"
    assert form_sig.json()["meaning_text"] == "I approve the data of this form"
