from __future__ import annotations

import logging

from celery import shared_task

from ecrf.notifications.services import notification_deliver, pending_ids

logger = logging.getLogger(__name__)


@shared_task(name="ecrf.notifications.tasks.deliver", bind=True, max_retries=None, acks_late=True)
def deliver(self, notification_id: int) -> bool:  # noqa: ANN001
    """Idempotent: a delivered or claimed notification is left alone; failures retry."""
    try:
        return notification_deliver(notification_id=notification_id)
    except Exception as exc:
        logger.warning("notification %s delivery failed: %s", notification_id, exc)
        raise self.retry(exc=exc, countdown=min(300, 10 * (self.request.retries + 1))) from exc


@shared_task(name="ecrf.notifications.tasks.deliver_pending")
def deliver_pending() -> int:
    """Deliver every pending entry (periodic too, so a lost or failed task is caught up)."""
    delivered = 0
    for pk in pending_ids():
        try:
            delivered += int(notification_deliver(notification_id=pk))
        except Exception as exc:  # noqa: BLE001  (one failing recipient must not block the others)
            logger.warning("notification %s delivery failed: %s", pk, exc)
    return delivered
