"""Two tiny edit checks on the test form (tests.testapp), registered for one test at a time, to
exercise the engine without depending on the clinical apps' checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Exists, F, IntegerField, OuterRef, Value

from ecrf.crf import checks as registry
from ecrf.crf.checks import CheckScope, EditCheck, Severity
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.services import form_create
from tests.testapp.models import VitalSigns
from tests.testapp.specs import VITALS


def _fast_heart(scope: CheckScope):  # noqa: ANN202
    return (VitalSigns.objects.filter(participant__in=scope.participants, heart_rate__gt=150)
            .exclude(status=EntryStatus.RETRACTED)
            .annotate(form_id=F("pk"), item=Value("")).values("participant_id", "form_id", "item"))


def _no_vitals(scope: CheckScope):  # noqa: ANN202
    has = VitalSigns.objects.filter(participant_id=OuterRef("pk"))
    return (Participant.objects.filter(pk__in=scope.participants.values("pk")).filter(~Exists(has))
            .annotate(participant_id=F("pk"), form_id=Value(None, output_field=IntegerField()), item=Value("baseline"))
            .values("participant_id", "form_id", "item"))


FAST_HEART = EditCheck(code="TEST-001", version=1, message="Heart rate above 150/min: please confirm.",
                       severity=Severity.SOFT, form="testapp.vitals", fields=("heart_rate",),
                       rationale="Tachycardia above 150/min is rare at rest.", rule=_fast_heart)
NO_VITALS = EditCheck(code="TEST-002", version=1, message="No vital signs recorded.", severity=Severity.HARD,
                      form="testapp.vitals", fields=("measured_on",), rationale="Every participant needs them.",
                      rule=_no_vitals)
TEST_CHECKS = (FAST_HEART, NO_VITALS)


@pytest.fixture
def test_checks(monkeypatch):
    """The registry holds exactly the two test checks for this test."""
    monkeypatch.setattr(registry, "_CHECKS", {c.code: c for c in TEST_CHECKS})
    monkeypatch.setattr(registry, "autodiscover_modules", lambda *a, **k: None)
    return TEST_CHECKS


@pytest.fixture
def vitals(coordinator):
    def make(participant, heart_rate: int = 80, day: int = 20, submit: bool = True, actor=None):  # noqa: ANN001, ANN202
        return form_create(actor=actor or coordinator, spec=VITALS, participant=participant, submit=submit,
                           data={"measured_on": dt.date(2026, 11, day), "temperature": "37.0",
                                 "heart_rate": heart_rate})

    return make
