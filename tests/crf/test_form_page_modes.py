"""A draft opens for entry; a submitted form opens read-only, and its Edit action opens a
correction that asks for the reason."""

from __future__ import annotations

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from tests.conftest import PASSWORD
from tests.testapp.models import VitalSigns
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


def page_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_submitted_form_opens_read_only_and_edit_asks_for_the_reason(coordinator, participant_a):
    form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": "2026-11-20", "temperature": "37.0", "heart_rate": 72, "notes": ""})
    client = page_client(coordinator)
    url = f"/forms/{VITALS.slug}/{form.pk}/"
    html = client.get(url).content.decode()
    assert 'name="f-heart_rate"' not in html and "<dd>72</dd>" in html
    assert 'href="?edit=1"' in html
    edit = client.get(url, {"edit": "1"}).content.decode()
    assert 'name="f-heart_rate"' in edit and 'name="reason"' in edit
    refused = client.post(url, {"f-measured_on": "2026-11-20", "f-temperature": "37.0", "f-heart_rate": "75", "f-notes": "",
                                "expected_version": form.version, "reason": "", "submit": "1"})
    assert refused.status_code == 200 and 'name="f-heart_rate"' in refused.content.decode()
    assert VitalSigns.objects.get(pk=form.pk).heart_rate == 72
    done = client.post(url, {"f-measured_on": "2026-11-20", "f-temperature": "37.0", "f-heart_rate": "75", "f-notes": "",
                             "expected_version": form.version, "reason": "Transcription error", "submit": "1"})
    assert done.status_code == 302 and VitalSigns.objects.get(pk=form.pk).heart_rate == 75


def test_a_draft_opens_for_entry_and_a_reader_sees_no_edit_action(coordinator, users, participant_a):
    draft = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=False,
                        data={"measured_on": "2026-11-20", "temperature": "37.0", "heart_rate": 72, "notes": ""})
    assert 'name="f-heart_rate"' in page_client(coordinator).get(f"/forms/{VITALS.slug}/{draft.pk}/").content.decode()
    monitor_view = page_client(users[Role.MONITOR]).get(f"/forms/{VITALS.slug}/{draft.pk}/?edit=1").content.decode()
    assert 'name="f-heart_rate"' not in monitor_view and 'href="?edit=1"' not in monitor_view
