"""Saving a serious adverse event on its page leads to its SAE report and reporting clock."""

from __future__ import annotations

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from safety.models import AdverseEvent
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS, ae_data

pytestmark = pytest.mark.django_db


def test_saving_a_serious_ae_leads_to_its_sae_report_and_clock(users, meddra, randomized):
    client = Client()
    assert client.login(username=users[Role.INVESTIGATOR].username, password=PASSWORD)
    data = ae_data(**SERIOUS, onset_date="2025-03-11", aware_at="2025-03-11 09:00", action_iv="none", action_sc="none")
    post = {f"f-{k}": ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(f"/participants/{randomized.pk}/forms/adverse-events/new/", {**post, "submit": "1"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    ae = AdverseEvent.objects.get()
    assert response["Location"] == f"/safety/ae/{ae.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "SAE initial report (24 h)" in page


def test_a_non_serious_ae_stays_on_its_form(users, meddra, randomized):
    client = Client()
    assert client.login(username=users[Role.INVESTIGATOR].username, password=PASSWORD)
    data = ae_data(onset_date="2025-03-11", aware_at="2025-03-11 09:00", action_iv="none", action_sc="none")
    post = {f"f-{k}": ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(f"/participants/{randomized.pk}/forms/adverse-events/new/", {**post, "submit": "1"})
    assert response["Location"] == f"/forms/adverse-events/{AdverseEvent.objects.get().pk}/"
