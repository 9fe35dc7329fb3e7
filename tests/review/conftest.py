"""Small fixtures of the review tests: a submitted test form of a site-A participant."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create
from tests.testapp.specs import VITALS


@pytest.fixture
def vitals(coordinator, participant_a):
    return form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})
