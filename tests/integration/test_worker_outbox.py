"""The outbox is delivered by a real worker, once, after commit (ARCHITECTURE.md invariant 9)."""

from __future__ import annotations

import pytest
from django.db import transaction

from ecrf.notifications.models import Notification
from ecrf.notifications.services import notify
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_delivers_outbox_entry_once(celery_worker_process, users):
    user = users["coordinator"]
    user.email = "coordinator@example.org"
    user.save()
    with transaction.atomic():
        notify(recipients=[user], kind="test", source="integration:1", subject="Hello")
        notify(recipients=[user], kind="test", source="integration:1", subject="Hello again")
    delivered = wait_for(lambda: Notification.objects.filter(source="integration:1", delivered_at__isnull=False).exists())
    assert delivered, "the worker did not deliver the notification"
    assert Notification.objects.filter(source="integration:1").count() == 1
    note = Notification.objects.get(source="integration:1")
    assert note.attempts == 1 and note.emailed_at is not None


def test_rolled_back_event_notifies_nobody(celery_worker_process, users):
    user = users["coordinator"]
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(recipients=[user], kind="test", source="integration:rollback", subject="Never")
        raise RuntimeError("the causing change failed")
    assert not Notification.objects.filter(source="integration:rollback").exists()
