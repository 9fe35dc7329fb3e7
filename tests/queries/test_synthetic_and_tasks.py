"""The demo-data step (a query in every state, through the services) and the tasks' wiring."""

from __future__ import annotations

import random

import pytest

from ecrf.accounts.roles import Role
from ecrf.celery import app
from ecrf.core.synthetic import SyntheticContext
from ecrf.queries import synthetic, tasks
from ecrf.queries.services import check_run_request
from ecrf.queries.models import CheckRequest, CheckRun, Query, RunState, RunTrigger

pytestmark = pytest.mark.django_db


def test_the_demo_step_leaves_a_query_in_every_state(test_checks, users, coordinator, site_a, randomized, vitals):
    for day in (1, 2, 3, 4):
        vitals(randomized, heart_rate=170 if day == 1 else 80, day=day)
    ctx = SyntheticContext(participants=1, seed=3, rng=random.Random(3), sites=[site_a],
                           users={Role.DATA_MANAGER: users[Role.DATA_MANAGER]},
                           site_users={(site_a.code, Role.COORDINATOR): coordinator})
    synthetic.generate(ctx)
    run = CheckRun.objects.get(trigger=RunTrigger.SYNTHETIC)
    assert run.state == RunState.DONE and run.opened == 1
    manual = Query.objects.filter(check_code__isnull=True)
    states = {(q.state, q.is_draft) for q in manual}
    assert states == {("open", True), ("open", False), ("answered", False), ("closed", False), ("cancelled", True)}
    checked = Query.objects.get(check_code="TEST-001")
    assert checked.state == "closed" and checked.accepted
    assert not CheckRequest.objects.filter(pending=True).exists()
    assert all(q.history.exists() for q in Query.objects.all())
    assert "1 queries opened by 2 checks (one confirmed as correct)" in ctx.log[-1]


def test_the_nightly_sweep_is_scheduled_and_runs_every_participant(test_checks, participant_a, make_participant):
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "ecrf.queries.tasks.sweep_checks"]
    assert len(entries) == 1 and tasks.sweep_checks.name in app.tasks
    other = make_participant()
    assert tasks.sweep_checks() == {"opened": 2, "reopened": 0, "closed": 0}  # TEST-002: no vitals for either
    assert set(Query.objects.values_list("participant_id", flat=True)) == {participant_a.pk, other.pk}
    assert CheckRun.objects.get().trigger == RunTrigger.BEAT


def test_an_on_demand_run_is_run_once_by_its_task(test_checks, users, participant_a,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = check_run_request(actor=users[Role.DATA_MANAGER])
    assert tasks.run_requested_checks(run.pk) == "done"
    assert tasks.run_requested_checks(run.pk) == "already run"  # a redelivered task
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.opened == 1 and run.requested_by == users[Role.DATA_MANAGER]
