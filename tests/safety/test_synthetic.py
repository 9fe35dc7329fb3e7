from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.crf.synthetic import SyntheticContext
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from ecrf.study import synthetic as study_synthetic
from safety import synthetic
from safety.models import AdverseEvent, Clock, ExpeditedAssessment
from safety.selectors import clock_row
from tests.support.screening import eligible_participant

pytestmark = pytest.mark.django_db


def test_demo_data_has_grades_exemptions_clocks_in_every_state_and_a_susar():
    ctx = SyntheticContext(participants=6, seed=1, rng=random.Random(1))
    study_synthetic.generate(ctx)
    # Adverse events are generated for randomized participants: screened and randomized for real,
    # so the demo's SUSAR is assessed against a real phenotype and unblinded for real.
    allocation_list_generate(actor=ctx.users[Role.STATISTICIAN], seed="demo", slots_per_stratum=8)
    for site in ctx.sites:
        coordinator = ctx.site_users[(site.code, Role.COORDINATOR)]
        p = eligible_participant(coordinator, ctx.users[Role.LAB], site, f"{site.code}-001", "MALS")
        participant_randomize(actor=coordinator, participant=p)
    synthetic.generate(ctx)
    assert set(AdverseEvent.objects.values_list("grade", flat=True)) >= {1, 2, 3, 4}
    assert AdverseEvent.objects.exclude(exemption="").count() == 2
    now = timezone.now()
    states = {clock_row(c, now=now, pv=True, case_status=None, fraction=Decimal("0.25")).state
              for c in Clock.objects.filter(kind="sae_initial")}
    assert states == {"running", "due_soon", "overdue", "met", "met_late"}
    assert list(ExpeditedAssessment.objects.values_list("status", flat=True)) == ["closed"]  # decided by pharmacovigilance
