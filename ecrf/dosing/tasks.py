"""Thin, idempotent tasks: each calls one service (safe to run twice or at once)."""

from __future__ import annotations

from celery import shared_task

from ecrf.dosing.services import missed_dose_sweep


@shared_task(name="ecrf.dosing.tasks.sweep_missed_doses", acks_late=True)
def sweep_missed_doses() -> dict[str, int]:
    """Raise the missed-dose deviation for scheduled administrations overdue with no record."""
    report = missed_dose_sweep()
    return {"participants": report.participants, "raised": report.raised, "skipped_locked": report.skipped_locked}
