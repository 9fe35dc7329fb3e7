"""generate_trial's screening, randomization and pharmacy steps, through the services."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from ecrf.crf.models import Participant
from ecrf.core.synthetic import SyntheticContext
from ecrf.pharmacy.models import Preparation
from ecrf.randomization.models import Assignment
from ecrf.screening.models import CentralLabResult, Screening

pytestmark = pytest.mark.django_db


def test_synthetic_steps(monkeypatch):
    from ecrf.notifications import tasks

    monkeypatch.setattr(tasks.deliver_pending, "delay", lambda *a, **k: None)
    from ecrf.pharmacy import synthetic as pharmacy
    from ecrf.randomization import synthetic as randomization
    from ecrf.screening import synthetic as screening
    from ecrf.study import synthetic as study

    ctx = SyntheticContext(participants=12, seed=5, rng=random.Random(5))
    for step in (study, screening, randomization, pharmacy):
        step.generate(ctx)
    screened = Screening.objects.count()
    assert screened >= round(12 * 2.4)
    assert Screening.objects.filter(eligibility="not_eligible").exists()
    reasons = {r for s in Screening.objects.all() for r in s.ineligibility_reasons}
    assert "phenotype_neither" in reasons and len(reasons) >= 3
    assert Screening.objects.filter(eligibility="eligible", phenotype="MALS").exists()
    assert Screening.objects.filter(eligibility="eligible", phenotype="immunoparalysis").exists()
    assert CentralLabResult.objects.exists()
    randomized = Participant.objects.filter(randomized_at__isnull=False)
    assert randomized.count() == 12 == Assignment.objects.count()
    # Spread over the simulated trial, in the past, each within 72 h of Sepsis-3.
    assert randomized.order_by("randomized_at").first().randomized_at < timezone.now() - timezone.timedelta(days=30)
    for s in Screening.objects.filter(participant__in=randomized).select_related("participant"):
        assert (s.participant.randomized_at - s.sepsis3_at).total_seconds() <= 72 * 3600
    assert Preparation.objects.filter(dose_number=1, route="iv").count() == 12
    assert randomized.filter(emergency_unblinded=True).count() == 1
