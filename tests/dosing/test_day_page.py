"""The dosing day page: nothing preselected, the due time only when the user says so, and an SC
injection without a duration."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ecrf.dosing.models import Administration
from tests.conftest import PASSWORD
from tests.support.fixtures import DAY_ONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(coordinator):
    client = Client()
    assert client.login(username=coordinator.username, password=PASSWORD)
    return client


def _slot(html: str, slot: str) -> str:
    found = re.search(rf'<section class="dose"[^>]*data-testid="slot-{slot}">(.*?)</section>', html, re.S)
    assert found, slot
    return found.group(1)


def test_nothing_is_preselected_and_the_injection_has_no_duration(page, randomized):
    html = page.get(f"/participants/{randomized.pk}/dosing/1/").content.decode()
    iv, sc = _slot(html, "iv-1"), _slot(html, "sc-1")
    assert "checked" not in iv and "checked" not in sc
    assert 'name="iv-1-started_at"' in iv and 'value="' not in re.search(r'<input[^>]*name="iv-1-started_at"[^>]*>', iv).group(0)
    assert 'name="iv-1-duration_minutes"' in iv
    assert 'name="sc-1-duration_minutes"' not in sc and 'name="sc-1-interrupted"' not in sc
    assert 'name="sc-1-volume_ml"' in sc


def test_a_dose_without_an_answer_is_refused_with_a_sentence(page, randomized):
    url = f"/participants/{randomized.pk}/dosing/1/"
    response = page.post(url, {"slot": "iv-1", "iv-1-duration_minutes": "30", "iv-1-volume_ml": "20"})
    assert response.status_code == 200
    assert "Say whether the dose was given or not." in response.content.decode()
    assert not Administration.objects.exists()


def test_the_due_time_is_the_start_time_only_when_ticked(page, randomized):
    url = f"/participants/{randomized.pk}/dosing/1/"
    response = page.post(url, {"slot": "sc-1", "sc-1-given": "yes", "sc-1-at_due_time": "on", "sc-1-volume_ml": "0.5"})
    assert response.status_code == 302, response.content.decode()[:2000]
    given = Administration.objects.get(route="sc", dose_number=1)
    assert given.duration_minutes is None
    assert given.started_at == DAY_ONE  # dose 1 is due at randomization
    # Both a tick and a time is a contradiction, refused.
    refused = page.post(url, {"slot": "iv-1", "iv-1-given": "yes", "iv-1-at_due_time": "on", "iv-1-started_at": "2025-03-10T10:05",
                              "iv-1-duration_minutes": "30", "iv-1-volume_ml": "20"})
    assert "not both" in refused.content.decode()
    assert not Administration.objects.filter(route="iv").exists()
