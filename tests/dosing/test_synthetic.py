"""Demo data: a participant who stops withdraws consent through the screening service, and the
administrations, the schedule and the missed-dose sweep agree with it."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.synthetic import SyntheticContext
from ecrf.deviations.models import Deviation
from ecrf.dosing import synthetic
from ecrf.dosing.models import Administration
from ecrf.dosing.services import missed_dose_sweep
from ecrf.schedule import adapters
from ecrf.schedule.days import date_of_day
from ecrf.schedule.selectors import build_schedule
from tests.support.stages import randomized as randomize

pytestmark = pytest.mark.django_db


def test_stops_are_real_withdrawals_and_no_dose_follows(users, coordinator, site_a):
    now = timezone.now().replace(microsecond=0)
    people = [randomize(site_a, actor=coordinator, lab_user=users[Role.LAB], number=f"SYN-{n}",
                        at=now - dt.timedelta(days=20)) for n in range(3)]
    treatment, everything, full = people
    ctx = SyntheticContext(participants=3, seed=3, rng=random.Random(3), sites=[site_a],
                           site_users={(site_a.code, Role.COORDINATOR): coordinator})
    ctx.data["fates"] = {
        treatment.pk: {"died_at": None, "stop": "treatment", "stop_day": 4, "lost": False},
        everything.pk: {"died_at": None, "stop": "everything", "stop_day": 3, "lost": False},
        full.pk: {"died_at": None, "stop": None, "stop_day": None, "lost": False},
    }
    synthetic.generate(ctx)
    assert adapters.withdrawal_for(treatment) == adapters.Withdrawal("treatment", date_of_day(treatment, 4))
    assert adapters.withdrawal_for(everything) == adapters.Withdrawal("data_collection", date_of_day(everything, 3))
    assert adapters.withdrawal_for(full) is None
    assert "2 withdrawals of consent" in ctx.log[-1]
    for p, last_day in ((treatment, 4), (everything, 3), (full, 16)):
        days = set(Administration.objects.filter(participant=p, given=True).values_list("study_day", flat=True))
        assert days and max(days) <= last_day
    assert Administration.objects.filter(participant=full, route="iv").count() == 45
    missed_dose_sweep()
    for deviation in Deviation.objects.filter(rule_code__startswith="missed_dose:"):
        _, route, number = deviation.rule_code.split(":")
        slot = next(f for f in build_schedule(deviation.participant).forms
                    if dict(f.slot.match) == {"route": route, "dose_number": int(number)})
        assert slot.expected, deviation.description
