from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from ecrf.notifications.models import DeliveryState, Notification
from ecrf.notifications.services import notification_deliver, notify
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
