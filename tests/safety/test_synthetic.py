from __future__ import annotations

import random

import pytest

from ecrf.crf.synthetic import SyntheticContext
from safety.models import AdverseEvent, Clock, ExpeditedAssessment

pytestmark = pytest.mark.django_db


def test_demo_data_has_grades_exemptions_clocks_in_every_state_and_a_susar(make_participant, phenotype):
    from ecrf.study import synthetic as study_synthetic
    from safety import synthetic
    from safety.selectors import clock_row
    from django.utils import timezone
    from decimal import Decimal

    ctx = SyntheticContext(participants=6, seed=1, rng=random.Random(1))
    study_synthetic.generate(ctx)
    for site in ctx.sites:  # adverse events are generated for randomized participants
        make_participant(site, subject_id=f"{site.code}-001", randomized_at=timezone.now() - timezone.timedelta(days=5))
    synthetic.generate(ctx)
    assert set(AdverseEvent.objects.values_list("grade", flat=True)) >= {1, 2, 3, 4}
    assert AdverseEvent.objects.exclude(exemption="").count() == 2
    now = timezone.now()
    states = {clock_row(c, now=now, pv=True, case_status=None, fraction=Decimal("0.25")).state
              for c in Clock.objects.filter(kind="sae_initial")}
    assert states == {"running", "due_soon", "overdue", "met", "met_late"}
    assert ExpeditedAssessment.objects.filter(status__in=["potential_susar", "closed"]).count() == 1
