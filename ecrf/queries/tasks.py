"""Thin, idempotent tasks: each calls one service (safe to run twice or at once: the unique key
of check queries and the row locks of the close and reopen steps)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from ecrf.queries import services
from ecrf.queries.models import CheckRun, RunState, RunTrigger


@shared_task(name="ecrf.queries.tasks.run_participant_checks", acks_late=True)
def run_participant_checks(participant_id: int) -> dict[str, int]:
    """The after-save run: every check, over the one participant whose form was written."""
    run = services.checks_run_requested(participant_id=participant_id)
    if run is None:
        return {"opened": 0, "reopened": 0, "closed": 0}
    return {"opened": run.opened, "reopened": run.reopened, "closed": run.closed}


@shared_task(name="ecrf.queries.tasks.sweep_checks", acks_late=True)
def sweep_checks() -> dict[str, int]:
    """The scheduled whole-study sweep (ecrf/celery.py): catches what no save triggered, such as a
    form that became overdue with the passing of time."""
    run = services.checks_run(trigger=RunTrigger.BEAT)
    return {"opened": run.opened, "reopened": run.reopened, "closed": run.closed}


@shared_task(name="ecrf.queries.tasks.run_requested_checks", acks_late=True)
def run_requested_checks(run_id: int) -> str:
    """A data manager's on-demand run, recorded by ``check_run_request``. A run already started
    (a redelivered task) is not run twice."""
    with transaction.atomic():
        run = CheckRun.objects.select_for_update().filter(pk=run_id, state=RunState.QUEUED).first()
        if run is None:
            return "already run"
        run.state = RunState.RUNNING
        run.save(update_fields=["state"])
    services.checks_run(trigger=run.trigger, actor=run.requested_by, run=run)
    return "done"
