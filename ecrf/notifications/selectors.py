from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.core.errors import not_found
from ecrf.notifications.models import Notification


def inbox_for(user: Any) -> QuerySet[Notification]:
    """A user's delivered notifications; nobody sees another user's inbox."""
    return Notification.objects.filter(recipient=user, delivered_at__isnull=False)


def notification_get(user: Any, pk: Any) -> Notification:
    note = inbox_for(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if note is None:
        raise not_found("notification")
    return note
