"""The screening CRFs' edit checks, on participants built through the screening services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_update
from ecrf.randomization.services import participant_randomize
from ecrf.screening.models import CentralLabResult, Consent, Screening
from ecrf.screening.specs import CENTRAL_LAB
from tests.support import stages
from tests.support.checks import forms, run
from tests.support.fixtures import DAY_ONE
from tests.support.screening import consent, lab

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
ONSET = DAY_ONE - 24 * H  # stages: Sepsis-3 24 h before randomization


def test_consent_before_the_sepsis_onset(users, coordinator, site_a, randomized):
    early = stages.screened(site_a, actor=coordinator, at=DAY_ONE)
    with stages.clock(DAY_ONE):
        form = consent(coordinator, early, at=ONSET - 2 * H)
    assert forms(run("SCR-001", early, randomized)) == {form.pk}


def correct_ferritin(users, participant, ferritin: Decimal) -> CentralLabResult:
    row = CentralLabResult.objects.get(participant=participant)
    return form_update(actor=users[Role.LAB], spec=CENTRAL_LAB, form=row, version=row.version,
                       reason="Central lab re-run", data={"ferritin": ferritin})


def test_phenotype_contradicted_by_a_corrected_lab_value(users, coordinator, site_a, randomized):
    paralysis = stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=DAY_ONE,
                                  phenotype="immunoparalysis")
    assert run("SCR-002", randomized, paralysis) == []
    correct_ferritin(users, randomized, Decimal(4420))  # exactly 4420 is not MALS
    correct_ferritin(users, paralysis, Decimal(5000))
    assert Screening.objects.get(participant=randomized).phenotype == "MALS"  # fixed at randomization
    assert forms(run("SCR-002", randomized, paralysis)) == {
        Screening.objects.get(participant=randomized).pk, Screening.objects.get(participant=paralysis).pk}


def test_sample_before_the_sepsis_onset(users, coordinator, site_a, randomized):
    early = stages.screened(site_a, actor=coordinator, at=DAY_ONE)
    with stages.clock(DAY_ONE):
        consent(coordinator, early, at=ONSET - 3 * H)
        row = lab(users[Role.LAB], early, Decimal(6200), 9000, sampled_at=ONSET - H)
    assert forms(run("SCR-003", early, randomized)) == {row.pk}


def test_representative_consent_never_confirmed(users, coordinator, site_a, randomized):
    p = stages.screened(site_a, actor=coordinator, at=DAY_ONE)
    with stages.clock(DAY_ONE):
        given = consent(coordinator, p, at=ONSET + H, by="representative")
        lab(users[Role.LAB], p, Decimal(6200), 9000, sampled_at=ONSET + 2 * H)
    stages.allocation_lists()
    with stages.clock(DAY_ONE):
        participant_randomize(actor=coordinator, participant=p)
    assert run("SCR-004", p, randomized, now=DAY_ONE + 14 * 24 * H) == []
    assert forms(run("SCR-004", p, randomized, now=DAY_ONE + 16 * 24 * H)) == {given.pk}
    assert Consent.objects.get(participant=randomized).consent_by == "patient"
