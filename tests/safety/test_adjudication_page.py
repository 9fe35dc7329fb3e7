"""The adjudication page shows the event the reviewer weighs: onset, awareness, special-interest
data, the site's SAE reports with their narrative, and the local labs around the onset."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.labs.specs import LAB_PANEL_SPEC
from safety.models import Adjudication
from safety.specs import AE_SPEC
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS, ae_data
from tests.support.fixtures import DAY_ONE

pytestmark = pytest.mark.django_db


def test_the_reviewer_reads_the_event_its_reports_and_the_labs_around_its_onset(users, meddra, coordinator, randomized):
    day = dt.timedelta(days=1)
    form_create(actor=coordinator, spec=LAB_PANEL_SPEC, participant=randomized, submit=True,
                data={"day": 3, "sample_time": DAY_ONE + 2 * day, "hemoglobin": "70", "hemoglobin_unit": "g/L"})
    form_create(actor=coordinator, spec=LAB_PANEL_SPEC, participant=randomized, submit=True,  # a week later: not shown
                data={"day": 8, "sample_time": DAY_ONE + 7 * day, "hemoglobin": "99", "hemoglobin_unit": "g/L"})
    ae = form_create(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, participant=randomized, submit=True,
                     data=ae_data(**SERIOUS, onset_date=(DAY_ONE + 2 * day).date(), aware_at=DAY_ONE + 2 * day))
    adjudication = Adjudication.objects.get(adverse_event=ae)
    client = Client()
    assert client.login(username=users[Role.SAFETY_OFFICER].username, password=PASSWORD)
    html = client.get(f"/safety/adjudication/{adjudication.pk}/").content.decode()
    onset = re.search(r'data-testid="adj-onset">([^<]*)<', html).group(1)
    assert onset == "2025-03-12 (study day 3)"
    assert "upper GI" in html and "Major" in html  # the bleeding of special interest
    assert 'data-testid="adj-sae-reports"' in html and "Initial" in html
    labs = re.search(r'<table data-testid="adj-labs">(.*?)</table>', html, re.S).group(1)
    assert "Hemoglobin <small>(g/dL)</small>" in labs
    assert ">7<" in labs and ">9.9<" not in labs  # 70 g/L shown as 7 g/dL; day 8 is outside the window
