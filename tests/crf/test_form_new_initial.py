"""A new form page pre-fills entry fields named in the query (e.g. ``?day=3`` from the casebook)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.testapp.models import VitalSigns
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


def page_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def value_of(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="f-{name}"[^>]*>', html)
    assert tag is not None, name
    found = re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else None


def test_query_parameters_naming_entry_fields_prefill_the_form(coordinator, participant_a):
    url = f"/participants/{participant_a.pk}/forms/{VITALS.slug}/new/"
    html = page_client(coordinator).get(url, {"measured_on": "2026-11-20", "heart_rate": "80", "fever": "1",
                                              "status": "submitted", "participant": "999", "notes": "",
                                              "temperature": '"><script>x</script>'}).content.decode()
    assert value_of(html, "measured_on") == "2026-11-20"
    assert value_of(html, "heart_rate") == "80"
    assert value_of(html, "notes") is None  # an empty parameter fills nothing
    assert "<script>x</script>" not in html  # rendered escaped like any value
    assert 'name="f-fever"' not in html and 'name="f-status"' not in html  # derived / not entry fields
    assert not VitalSigns.objects.exists()  # a GET writes nothing


def test_posted_values_win_over_the_query(coordinator, participant_a):
    url = f"/participants/{participant_a.pk}/forms/{VITALS.slug}/new/?heart_rate=80&measured_on=2026-11-19"
    response = page_client(coordinator).post(url, {"f-measured_on": "2026-11-20", "f-temperature": "37.0",
                                                   "f-heart_rate": "72", "f-notes": "", "save": "1"})
    assert response.status_code == 302
    saved = VitalSigns.objects.get()
    assert saved.heart_rate == 72 and str(saved.measured_on) == "2026-11-20"
