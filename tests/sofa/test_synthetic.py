from __future__ import annotations

import random

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.synthetic import SyntheticContext
from ecrf.sofa import synthetic
from ecrf.sofa.models import SofaDay, SofaEndpoint
from ecrf.sofa.scoring import COMPONENTS, SofaInputs, observed_subscores

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("score", range(5))
def test_raw_values_score_exactly_the_intended_subscores(score):
    rng = random.Random(score)
    for _ in range(20):
        values = synthetic.raw_values(dict.fromkeys(COMPONENTS, score), rng, set())
        assert observed_subscores(SofaInputs(**values)) == dict.fromkeys(COMPONENTS, score)


def test_generate_enters_trajectories_through_the_services_and_derives_endpoints(make_randomized, coordinator, site_a):
    people = [make_randomized() for _ in range(12)]
    ctx = SyntheticContext(participants=12, seed=7, rng=random.Random(7), sites=[site_a],
                           site_users={(site_a.code, Role.COORDINATOR): coordinator})
    synthetic.generate(ctx)
    assert SofaDay.objects.count() > 80
    assert SofaEndpoint.objects.count() == len(people)
    assert SofaDay.objects.filter(total__isnull=True).count() == 0
    assert any(d.missing_components for d in SofaDay.objects.all())
    assert all(d.history.exists() for d in SofaDay.objects.all()[:5])
    for pid, death_day in ctx.data["planned_deaths"].items():
        assert not SofaDay.objects.filter(participant_id=pid, day__gte=death_day).exists()
