"""Thin, idempotent tasks: each calls one service (safe to run twice or at once)."""

from __future__ import annotations

import logging

from celery import shared_task

from ecrf.core.errors import DomainError, ErrorCode
from ecrf.sofa import services

logger = logging.getLogger(__name__)


@shared_task(name="ecrf.sofa.tasks.derive_participant_endpoints", acks_late=True)
def derive_participant_endpoints(participant_id: int) -> bool:
    """True when the participant has an endpoint record in step with its inputs. A participant
    locked after the input's commit and before this task ran keeps its endpoints as locked
    (invariant 5): the refusal is logged and the task ends (a retry would be refused again)."""
    try:
        return services.endpoint_derive(participant_id=participant_id) is not None
    except DomainError as exc:
        if exc.code != ErrorCode.LOCKED:
            raise
        logger.warning("Endpoints of participant %s not re-derived: %s", participant_id, exc.message)
        return False


@shared_task(name="ecrf.sofa.tasks.rederive_all_endpoints", acks_late=True)
def rederive_all_endpoints() -> dict[str, int]:
    report = services.endpoints_rederive()
    return {"participants": report.participants, "created": report.created, "changed": report.changed,
            "skipped_locked": report.skipped_locked}
