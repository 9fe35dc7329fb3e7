"""The export job's task: thin and idempotent (a done job is not rewritten; a job left running
by a crashed worker is written again from the start, giving the same bytes)."""

from __future__ import annotations

from celery import shared_task

from ecrf.exports import services


@shared_task(name="ecrf.exports.tasks.export_run", acks_late=True)
def export_run(job_id: int) -> str:
    return services.export_job_run(job_id=job_id).status
