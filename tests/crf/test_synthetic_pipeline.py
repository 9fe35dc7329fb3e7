"""The synthetic-trial pipeline: each app declares its step and order; ``generate_trial`` runs
them and never trips on dates near now."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from ecrf.core import synthetic
from ecrf.crf.models import Participant
from ecrf.deviations.models import Deviation
from ecrf.medications.models import ConcomitantMedication


def test_every_app_declares_its_step_in_the_flow_of_data():
    assert [(s.name, s.order) for s in synthetic.steps()] == [
        ("ecrf.study", 10), ("ecrf.screening", 20), ("ecrf.randomization", 30), ("ecrf.pharmacy", 40),
        ("ecrf.dosing", 50), ("ecrf.labs", 60), ("ecrf.medications", 70), ("ecrf.sofa", 80),
        ("ecrf.outcomes", 90), ("ecrf.deviations", 100), ("safety", 110), ("ecrf.queries", 120), ("ecrf.review", 130)]


def test_an_order_already_taken_is_refused():
    def generate(ctx):  # noqa: ANN001, ANN202
        return None

    with pytest.raises(ValueError, match="order 20, already taken by ecrf.screening"):
        synthetic.register_step(generate, order=20, name="tests.clash")
    assert "tests.clash" not in {s.name for s in synthetic.steps()}


@pytest.mark.django_db
def test_generate_trial_never_enters_a_date_in_the_future(capsys):
    # The generator randomizes its last two participants within hours of now (whatever the size,
    # so three participants are enough): their "day 3" may not have come, and the medication and
    # deviation dates refuse the future. Near midnight UTC the sites' dates (Athens, Amsterdam,
    # Rome) are a day ahead of the server's, which the forms' rules compare with.
    # One run through the services (tens of seconds); tests/scale runs the bulk path, which plans
    # the same entries, over several seeds, sizes and times of day.
    with time_machine.travel("2026-11-30 23:40Z", tick=True):
        call_command("generate_trial", participants=3, seed=1)
    out = capsys.readouterr().out
    assert "Synthetic trial ready" in out
    assert "in the future" not in out  # no demo row refused for a date ahead of now
    today = timezone.localdate()
    assert Participant.objects.filter(randomized_at__isnull=False).exists()
    assert ConcomitantMedication.objects.exists()
    assert not ConcomitantMedication.objects.filter(started_on__gt=today).exists()
    assert not Deviation.objects.filter(occurred_on__gt=today).exists()
