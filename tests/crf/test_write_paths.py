"""The write guard and the audit rules hold on every path: pages, admin, a task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_create
from ecrf.crf.tasks import apply_form_change
from tests.conftest import PASSWORD
from tests.testapp.models import VitalSigns
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def vitals(coordinator, participant_a):
    return form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})


def page_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def edit_post(version: int, reason: str = "Correction", heart_rate: int = 90) -> dict:
    return {"f-measured_on": "2026-11-20", "f-temperature": "38.5", "f-heart_rate": str(heart_rate), "f-notes": "",
            "expected_version": str(version), "reason": reason, "save": "1"}


def test_page_edit_with_reason_is_audited(coordinator, vitals):
    response = page_client(coordinator).post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1))
    assert response.status_code == 302
    vitals.refresh_from_db()
    assert vitals.heart_rate == 90 and vitals.version == 2
    latest = vitals.history.first()
    assert latest.history_user == coordinator and latest.history_change_reason == "Correction"


def test_page_edit_without_reason_after_submission_is_refused(coordinator, vitals):
    response = page_client(coordinator).post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1, reason=""))
    assert response.status_code == 200
    assert "reason" in response.content.decode().lower()
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100 and vitals.version == 1


def test_page_stale_version_is_refused(coordinator, vitals):
    client = page_client(coordinator)
    assert client.post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1)).status_code == 302
    response = client.post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1, heart_rate=70))
    assert "changed by someone else" in response.content.decode()
    vitals.refresh_from_db()
    assert vitals.heart_rate == 90


def test_write_under_lock_refused_through_page(coordinator, vitals, participant_a):
    LockScope.objects.create(level="site", kind="lock", site=participant_a.site)
    response = page_client(coordinator).post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1))
    assert response.status_code == 200 and "locked" in response.content.decode()
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100


def test_write_under_lock_refused_through_admin(users, vitals, participant_a):
    dm = users[Role.DATA_MANAGER]
    client = page_client(dm)
    url = f"/admin/testapp/vitalsigns/{vitals.pk}/change/"
    body = {"measured_on": "2026-11-20", "temperature": "38.5", "heart_rate": "95", "notes": "",
            "expected_version": "1", "reason_for_change": "DCF 12: site confirmed"}
    LockScope.objects.create(level="participant", kind="freeze", participant=participant_a)
    response = client.post(url, body)
    assert response.status_code == 200 and "frozen" in response.content.decode()
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100
    LockScope.objects.update(released_at=dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    response = client.post(url, body)
    assert response.status_code == 302
    vitals.refresh_from_db()
    assert vitals.heart_rate == 95 and vitals.history.first().history_change_reason == "DCF 12: site confirmed"
    assert vitals.history.first().history_user == dm


def test_admin_correction_needs_a_reason(users, vitals):
    client = page_client(users[Role.DATA_MANAGER])
    response = client.post(f"/admin/testapp/vitalsigns/{vitals.pk}/change/",
                           {"measured_on": "2026-11-20", "temperature": "38.5", "heart_rate": "95", "notes": "", "expected_version": "1",
                            "reason_for_change": ""})
    assert response.status_code == 200
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100


def test_admin_cannot_delete_clinical_data(users, vitals):
    client = page_client(users[Role.DATA_MANAGER])
    response = client.post(f"/admin/testapp/vitalsigns/{vitals.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert VitalSigns.objects.filter(pk=vitals.pk).exists()


def test_write_under_lock_refused_through_task(coordinator, vitals):
    LockScope.objects.create(level="study", kind="lock")
    result = apply_form_change.apply(kwargs={"form_key": VITALS.key, "form_id": vitals.pk, "actor_id": coordinator.pk,
                                             "data": {"heart_rate": 60}, "version": 1, "reason": "Import"}).get()
    assert result == {"ok": False, "code": "locked", "message": result["message"]}
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100


def test_task_applies_change_with_reason_and_is_idempotent(coordinator, vitals):
    kwargs = {"form_key": VITALS.key, "form_id": vitals.pk, "actor_id": coordinator.pk, "data": {"heart_rate": "60"},
              "version": 1, "reason": "Lab interface import"}
    assert apply_form_change.apply(kwargs=kwargs).get() == {"ok": True, "version": 2}
    replay = apply_form_change.apply(kwargs=kwargs).get()
    assert replay["ok"] is False and replay["code"] == "stale_version"
    vitals.refresh_from_db()
    assert vitals.heart_rate == 60 and vitals.history.count() == 2


def test_other_site_participant_is_404_on_pages(coordinator, participant_b, vitals):
    client = page_client(coordinator)
    assert client.get(f"/participants/{participant_b.pk}/").status_code == 404
    assert client.get(f"/participants/{participant_b.pk}/history/").status_code == 404
    assert client.get(f"/participants/{participant_b.pk}/forms/{VITALS.slug}/new/").status_code == 404
    listing = client.get("/participants/").content.decode()
    assert participant_b.screening_number not in listing


def test_participant_history_page_shows_who_field_old_new_reason(coordinator, vitals):
    client = page_client(coordinator)
    client.post(f"/forms/{VITALS.slug}/{vitals.pk}/", edit_post(1, reason="Wrong reading"))
    html = client.get(f"/participants/{vitals.participant_id}/history/").content.decode()
    assert "Wrong reading" in html and coordinator.username in html and "Heart rate (/min)" in html
    assert ">100<" in html and ">90<" in html
