from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ecrf.notifications.models import DeliveryState, Notification
from ecrf.notifications.services import Outbox, notification_deliver, notify, notify_many
from ecrf.notifications.tasks import deliver_pending
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipient(coordinator):
    coordinator.email = "c@example.org"
    coordinator.save()
    return coordinator


def test_outbox_entry_produced_twice_is_delivered_once(recipient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[recipient], kind="clock", source="sae:1", threshold="overdue", subject="Overdue")
        notify(recipients=[recipient], kind="clock", source="sae:1", threshold="overdue", subject="Overdue")
    assert callbacks, "delivery is enqueued on commit"
    assert Notification.objects.count() == 1
    assert deliver_pending.apply().get() == 1
    assert deliver_pending.apply().get() == 0
    assert len(mail.outbox) == 1


def test_distinct_events_each_notify(recipient):
    notify(recipients=[recipient], kind="clock", source="sae:1", threshold="due_soon", subject="Due soon")
    notify(recipients=[recipient], kind="clock", source="sae:1", threshold="overdue", subject="Overdue")
    notify(recipients=[recipient], kind="clock", source="sae:2", threshold="overdue", subject="Overdue")
    assert Notification.objects.count() == 3


def test_failed_email_is_retried_until_delivered(recipient, monkeypatch):
    note = notify(recipients=[recipient], kind="k", source="s:1", subject="S")[0]
    note = Notification.objects.get(source="s:1")

    def boom(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("ecrf.notifications.services.send_mail", boom)
    with pytest.raises(OSError):
        notification_deliver(notification_id=note.pk)
    note.refresh_from_db()
    assert note.state == DeliveryState.PENDING and note.attempts == 1 and "SMTP down" in note.last_error
    assert note.delivered_at is None
    monkeypatch.undo()
    assert notification_deliver(notification_id=note.pk) is True
    note.refresh_from_db()
    assert note.delivered_at is not None and note.attempts == 2 and len(mail.outbox) == 1


def test_claimed_notification_is_not_delivered_twice(recipient):
    notify(recipients=[recipient], kind="k", source="s:2", subject="S")
    note = Notification.objects.get(source="s:2")
    Notification.objects.filter(pk=note.pk).update(state=DeliveryState.SENDING, claimed_at=note.created_at.__class__.now(tz=note.created_at.tzinfo))
    assert notification_deliver(notification_id=note.pk) is False
    assert len(mail.outbox) == 0


def test_inbox_page_and_api_show_only_own(recipient, make_user):
    other = make_user("coordinator")
    notify(recipients=[recipient], kind="k", source="s:3", subject="For you")
    notify(recipients=[other], kind="k", source="s:3", subject="For someone else")
    deliver_pending.apply()
    client = Client()
    client.login(username=recipient.username, password=PASSWORD)
    html = client.get("/inbox/").content.decode()
    assert "For you" in html and "For someone else" not in html
    api = client.get("/api/v1/notifications/").json()
    assert [n["subject"] for n in api["results"]] == ["For you"]
    mine = Notification.objects.get(recipient=recipient)
    theirs = Notification.objects.get(recipient=other)
    assert client.post(f"/api/v1/notifications/{theirs.public_id}/read/").status_code == 404
    assert client.post(f"/api/v1/notifications/{mine.public_id}/read/").json()["read_at"] is not None


def test_bulk_outbox_writes_each_entry_once_in_one_statement_and_keeps_text_exact(recipient, make_user):
    other = make_user("coordinator")
    # Characters that array literals must quote or escape, so their encoding is really exercised.
    body = 'a "quoted", {braced} back\\slash NULL ; é — ✓\nsecond line'
    notify_many([Outbox(recipient.pk, "k", "s:bulk", "overdue", "Already there")])
    entries = [Outbox(recipient.pk, "k", "s:bulk", "overdue", "Offered again"),
               Outbox(other.pk, "k", "s:bulk", "overdue", "x" * 250, body, "/safety/clocks/"),
               Outbox(other.pk, "k", "s:bulk", "overdue", "x" * 250, body, "/safety/clocks/"),
               Outbox(other.pk, "k", "s:bulk", "due_soon", "Empty body")]
    with CaptureQueriesContext(connection) as ctx:
        assert notify_many(entries) == 3  # the duplicate within the call is dropped before writing
    inserts = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1, "the outbox is written in one statement whatever the number of entries"
    rows = {(n.recipient_id, n.threshold): n for n in Notification.objects.filter(source="s:bulk")}
    assert len(rows) == 3
    assert rows[recipient.pk, "overdue"].subject == "Already there", "an existing entry is never overwritten"
    written = rows[other.pk, "overdue"]
    assert (written.subject, written.body, written.link) == ("x" * 200, body, "/safety/clocks/")
    assert (written.state, written.attempts, written.last_error) == (DeliveryState.PENDING, 0, "")
    assert rows[other.pk, "due_soon"].body == ""


def test_public_ids_reveal_no_sequence(make_user):
    """Blinding: a user must not learn from the ids of their own notifications how many others
    were created in between. Ids drawn one after another, for different users, are random
    version-4 UUIDs: neither their order nor their differences follow the order of creation."""
    users = [make_user("coordinator") for _ in range(3)]
    ids = []
    for i in range(40):
        notify_many([Outbox(users[i % 3].pk, "k", f"s:seq:{i}", "overdue", "S")])
        ids.append(Notification.objects.get(source=f"s:seq:{i}").public_id)
    assert len(set(ids)) == len(ids)
    assert {u.version for u in ids} == {4}, "version 4 carries no time or counter field"
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    assert sorted(ids) != ids and sorted(ids, reverse=True) != ids, "ids sort independently of creation order"
    # No constant or bounded step between consecutive ids (as a counter or clock would give):
    # consecutive random ids differ in about half of their 122 random bits.
    steps = [(a.int ^ b.int).bit_count() for a, b in zip(ids, ids[1:], strict=False)]
    assert min(steps) > 20, steps
