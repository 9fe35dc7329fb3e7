"""Writes to the event log. Called by services in the same transaction as the act they record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest

from ecrf.audit.models import Event, EventKind

if TYPE_CHECKING:
    from ecrf.accounts.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def event_record(
    *,
    kind: EventKind,
    actor: User | None = None,
    request: HttpRequest | None = None,
    site: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    reason: str = "",
    actor_username: str = "",
    **detail: Any,
) -> Event:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = Event(
        kind=kind,
        actor=user,
        actor_username=actor_username or (user.get_username() if user else ""),
        site=site,
        object_type=object_type,
        object_id=object_id,
        ip_address=client_ip(request),
        reason=reason,
        detail=detail,
    )
    event.save()
    return event
