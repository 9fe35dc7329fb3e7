"""Thin, idempotent tasks: each calls one service (safe to run twice or at once)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ecrf.sofa.tasks.derive_participant_endpoints", acks_late=True)
def derive_participant_endpoints(participant_id: int) -> bool:
    from ecrf.sofa.services import endpoint_derive

    return endpoint_derive(participant_id=participant_id) is not None


@shared_task(name="ecrf.sofa.tasks.rederive_all_endpoints", acks_late=True)
def rederive_all_endpoints() -> dict[str, int]:
    from ecrf.sofa.services import endpoints_rederive

    report = endpoints_rederive()
    return {"participants": report.participants, "created": report.created, "changed": report.changed}
