from __future__ import annotations

import logging

from celery import shared_task

from ecrf.randomization.unblinding import unblinding_notify_safety_contact

logger = logging.getLogger(__name__)


@shared_task(name="ecrf.randomization.tasks.notify_safety_contact", bind=True, max_retries=None, acks_late=True)
def notify_safety_contact(self, unblinding_id: int) -> bool:
    """Idempotent: sent once (a sent mark under a row lock); retried until the mail goes out."""
    try:
        return unblinding_notify_safety_contact(unblinding_id=unblinding_id)
    except Exception as exc:
        logger.warning("safety-contact mail for unblinding %s failed: %s", unblinding_id, exc)
        raise self.retry(exc=exc, countdown=min(300, 10 * (self.request.retries + 1))) from exc
