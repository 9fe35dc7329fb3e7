import logging

from celery import shared_task

from ecrf.audit.integrity import verify_chain
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record

logger = logging.getLogger(__name__)


@shared_task(name="ecrf.audit.tasks.verify_audit_chain")
def verify_audit_chain() -> bool:
    """Periodic Part 11 check; a broken chain is logged as an error and recorded as an event."""
    report = verify_chain()
    if report.ok:
        logger.info("audit chain intact: %s rows", report.rows)
    else:
        logger.error("audit chain broken: %s", report.broken)
    event_record(kind=EventKind.AUDIT_VERIFIED, ok=report.ok, rows=report.rows, broken=str(report.broken or ""))
    return report.ok
