"""Writes to the event log. Called by services in the same transaction as the act they record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest

from ecrf.audit.integrity import VerifyReport, latest_checkpoint, verify_chain
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


def audit_verify(*, incremental: bool = False, batch_size: int = 2000, record: bool = True) -> VerifyReport:
    """Verify the audit trail and record the result as an ``AUDIT_VERIFIED`` event.

    A successful run records each chain's verified position in that event (the checkpoint): the
    event log is itself chained and append-only, so the checkpoints are too, and an incremental
    run (``incremental=True``) starts from the last authentic one. Without a checkpoint an
    incremental run is a full one."""
    since = latest_checkpoint() if incremental else None
    report = verify_chain(batch_size=batch_size, since=since)
    if record:
        detail: dict[str, Any] = {"ok": report.ok, "rows": report.rows, "broken": str(report.broken or ""),
                                  "mode": "incremental" if report.incremental else "full"}
        if report.ok:
            detail["checkpoint"] = {table: [pk, link] for table, (pk, link) in report.positions.items()}
        event_record(kind=EventKind.AUDIT_VERIFIED, **detail)
    return report
