from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from ecrf.core.errors import not_found
from ecrf.notifications.models import Notification


def inbox_for(user: Any) -> QuerySet[Notification]:
    """A user's delivered notifications; nobody sees another user's inbox."""
    return Notification.objects.filter(recipient=user, delivered_at__isnull=False)


def notification_get(user: Any, pk: Any) -> Notification:
    """One of the user's notifications by its public id (``pk`` of the URLs is that id)."""
    try:
        public_id = uuid.UUID(str(pk))
    except ValueError:
        public_id = None
    note = inbox_for(user).filter(public_id=public_id).first() if public_id is not None else None
    if note is None:
        raise not_found("notification")
    return note
