"""The trial-stage factories of tests/support build what production builds: the later tests rely
on it (a randomized participant has its slot, a dosed one its first doses)."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.dosing.models import Administration
from ecrf.randomization.models import Assignment, Stratum
from ecrf.screening.models import Screening
from tests.support import stages
from tests.support.times import athens

pytestmark = pytest.mark.django_db


def test_each_stage_adds_its_step_and_no_more(users, coordinator, site_a):
    lab = users[Role.LAB]
    screened = stages.screened(site_a, actor=coordinator)
    consented = stages.consented(site_a, actor=coordinator)
    phenotyped = stages.phenotyped(site_a, actor=coordinator, lab_user=lab, phenotype="immunoparalysis")
    assert Screening.objects.get(participant=screened).phenotype is None
    assert Screening.objects.get(participant=consented).eligibility == "pending"
    assert Screening.objects.get(participant=phenotyped).phenotype == "immunoparalysis"
    assert Screening.objects.get(participant=phenotyped).eligibility == "eligible"
    assert not any(p.is_randomized for p in (screened, consented, phenotyped))
    assert not Assignment.objects.exists()


def test_randomized_takes_the_next_slot_of_its_strata_list_at_the_given_time(users, coordinator, site_a):
    at = athens(2025, 3, 10, 10, 0)
    first = stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=at)
    second = stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=at, phenotype="immunoparalysis")
    assert first.randomized_at == at and first.subject_id and first.subject_id != second.subject_id
    one, two = (Assignment.objects.get(participant=p) for p in (first, second))
    assert (one.phenotype, one.slot.sequence) == ("MALS", 1)
    assert (two.phenotype, two.slot.sequence) == ("immunoparalysis", 1) and one.stratum_key != two.stratum_key
    assert Stratum.objects.get(key=one.stratum_key).next_sequence == 2
    assert Screening.objects.get(participant=first).phenotype_fixed_at == at


def test_dosed_has_its_first_iv_and_sc_doses_after_randomization(users, coordinator, site_a):
    p = stages.dosed(site_a, actor=coordinator, lab_user=users[Role.LAB], at=athens(2025, 3, 10, 10, 0))
    doses = list(Administration.objects.filter(participant=p).order_by("route"))
    assert [(d.route, d.dose_number, d.given, d.status) for d in doses] == [("iv", 1, True, "submitted"),
                                                                            ("sc", 1, True, "submitted")]
    assert all(d.started_at > p.randomized_at for d in doses)
