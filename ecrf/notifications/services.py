"""Notify through the outbox: rows written with the causing change, delivered on commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ecrf.notifications.models import DeliveryState, Notification

SENDING_LEASE = dt.timedelta(minutes=5)


def notify(*, recipients: Iterable[Any], kind: str, source: str, subject: str, body: str = "",
           threshold: str = "", link: str = "") -> list[Notification]:
    """Queue one notification per recipient; an entry produced again is not duplicated.

    Call inside the transaction of the event: the rows commit with it, and delivery is
    enqueued only on commit (a rolled-back event notifies nobody).
    """
    created: list[Notification] = []
    for user in {u.pk: u for u in recipients if u is not None}.values():
        rows = Notification.objects.bulk_create(
            [Notification(recipient=user, kind=kind, source=source, threshold=threshold, subject=subject[:200], body=body, link=link)],
            ignore_conflicts=True,
        )
        created.extend(rows)
    if created:
        from ecrf.notifications.tasks import deliver_pending

        # robust: a broker hiccup must not fail the committed event; the periodic sweep delivers it.
        transaction.on_commit(lambda: deliver_pending.delay(), robust=True)
    return created


def _claim(pk: int) -> Notification | None:
    """Claim one pending notification for delivery; None if someone else has it or it is done."""
    now = timezone.now()
    stale = now - SENDING_LEASE
    claimed = (
        Notification.objects.filter(pk=pk, delivered_at__isnull=True)
        .filter(models_q_pending_or_stale(stale))
        .update(state=DeliveryState.SENDING, claimed_at=now)
    )
    if not claimed:
        return None
    return Notification.objects.select_related("recipient").get(pk=pk)


def models_q_pending_or_stale(stale: dt.datetime):  # noqa: ANN201
    from django.db.models import Q

    return Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.SENDING, claimed_at__lt=stale)


def notification_deliver(*, notification_id: int) -> bool:
    """Deliver to the in-app inbox and by e-mail, exactly once. Raises if e-mail fails (retry)."""
    note = _claim(notification_id)
    if note is None:
        return False
    try:
        if note.recipient.email and note.emailed_at is None:
            send_mail(note.subject, note.body or note.subject, settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
            Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
    except Exception as exc:
        Notification.objects.filter(pk=note.pk).update(
            state=DeliveryState.PENDING, claimed_at=None, attempts=note.attempts + 1, last_error=str(exc)[:2000]
        )
        raise
    Notification.objects.filter(pk=note.pk).update(
        state=DeliveryState.DELIVERED, delivered_at=timezone.now(), attempts=note.attempts + 1, last_error=""
    )
    return True


def pending_ids(limit: int = 500) -> list[int]:
    stale = timezone.now() - SENDING_LEASE
    return list(
        Notification.objects.filter(delivered_at__isnull=True).filter(models_q_pending_or_stale(stale))
        .order_by("pk").values_list("pk", flat=True)[:limit]
    )


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
