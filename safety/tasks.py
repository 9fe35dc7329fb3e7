from __future__ import annotations

from celery import shared_task

from safety.services import clocks_evaluate


@shared_task(name="safety.tasks.evaluate_clocks")
def evaluate_clocks() -> dict[str, int]:
    """Beat task (every two minutes): idempotent, safe to run twice or at once."""
    return clocks_evaluate()
