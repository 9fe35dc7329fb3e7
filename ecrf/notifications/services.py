"""Notify through the outbox: rows written with the causing change, delivered on commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone
from django.db.models import Q

from ecrf.notifications.models import DeliveryState, Notification

if TYPE_CHECKING:
    from ecrf.accounts.models import User

SENDING_LEASE = dt.timedelta(minutes=5)


class Outbox(NamedTuple):
    """One outbox entry: notify ``recipient_id`` of ``kind`` caused by ``source`` (at ``threshold``)."""

    recipient_id: int
    kind: str
    source: str
    threshold: str
    subject: str
    body: str = ""
    link: str = ""


_COLUMNS = ("public_id", "recipient_id", "kind", "source", "threshold", "subject", "body", "link", "created_at", "state", "attempts",
            "last_error")
_PG_TYPES = ("uuid[]", "bigint[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "timestamptz[]", "text[]", "int[]", "text[]")


def _pg_insert(rows: list[tuple[Any, ...]]) -> None:
    """One INSERT ... SELECT unnest(...) whatever the number of rows (the clock job writes tens
    of thousands at once); ON CONFLICT DO NOTHING is the unique key's idempotence.

    The arrays are sent as binary parameters bound by the server (``%b`` on a server-binding
    cursor), which keeps it cheap (benchmarks/clocks.py): Django's client-side binding quotes and
    escapes every element of every array in Python, which cost more than the insert itself. The
    opaque ``public_id`` is drawn here, by ``uuid.uuid4()`` like the model's default (random
    version 4), not by the database: ids then come from one source whatever the database, which
    the counterfactual blinding test seeds. The cursor is wrapped like any Django cursor, so it
    runs in the caller's transaction and is logged and counted in tests."""
    table = Notification._meta.db_table
    select = ", ".join(f"%b::{t}" for t in _PG_TYPES)
    sql = (f'INSERT INTO "{table}" ({", ".join(_COLUMNS)}) SELECT * FROM unnest({select}) '
           "ON CONFLICT DO NOTHING")
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, [list(column) for column in zip(*((uuid.uuid4(), *row) for row in rows), strict=True)])


def notify_many(entries: Iterable[Outbox]) -> int:
    """Queue many notifications in one statement; an entry whose (source, recipient, kind,
    threshold) exists already is skipped, so repeated or overlapping producers never duplicate.

    Call inside the transaction of the causing event: the rows commit with it, and delivery is
    enqueued only on commit (a rolled-back event notifies nobody). Returns the entries offered.
    """
    now = timezone.now()
    rows = [(e.recipient_id, e.kind, e.source, e.threshold, e.subject[:200], e.body, e.link, now, DeliveryState.PENDING.value, 0, "")
            for e in dict.fromkeys(entries)]
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        _pg_insert(rows)
    else:
        Notification.objects.bulk_create([Notification(public_id=uuid.uuid4(), **dict(zip(_COLUMNS[1:], row, strict=True)))
                                          for row in rows], ignore_conflicts=True)

    # deferred import: ecrf.notifications.tasks imports this module (its tasks call these services).
    from ecrf.notifications.tasks import deliver_pending

    # robust: a broker hiccup must not fail the committed event; the periodic sweep delivers it.
    transaction.on_commit(lambda: deliver_pending.delay(), robust=True)
    return len(rows)


def notify(*, recipients: Iterable[Any], kind: str, source: str, subject: str, body: str = "",
           threshold: str = "", link: str = "") -> list[Notification]:
    """Queue one notification per recipient (see ``notify_many``); returns their outbox rows."""
    users = {u.pk: u for u in recipients if u is not None}
    notify_many(Outbox(pk, kind, source, threshold, subject, body, link) for pk in users)
    return list(Notification.objects.filter(source=source, kind=kind, threshold=threshold, recipient_id__in=users))


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


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
