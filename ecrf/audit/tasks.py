import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from ecrf.audit.models import Event, EventKind
from ecrf.audit.services import audit_verify

logger = logging.getLogger(__name__)

# The hourly run is incremental (it reads only what was written since the last verified link);
# a full run, which also finds a row altered before that link, is due once this much time has
# passed since the last successful full run.
FULL_RUN_EVERY = dt.timedelta(days=1)


def _full_run_due() -> bool:
    last_full = (Event.objects.filter(kind=EventKind.AUDIT_VERIFIED, detail__mode="full", detail__ok=True)
                 .order_by("-pk").values_list("at", flat=True).first())
    return last_full is None or timezone.now() - last_full >= FULL_RUN_EVERY


@shared_task(name="ecrf.audit.tasks.verify_audit_chain")
def verify_audit_chain(full: bool | None = None) -> bool:
    """Periodic Part 11 check; a broken chain is logged as an error and recorded as an event."""
    if full is None:
        full = _full_run_due()
    report = audit_verify(incremental=not full)
    if report.ok:
        logger.info("audit chain intact: %s rows (%s)", report.rows, "incremental" if report.incremental else "full")
    else:
        logger.error("audit chain broken: %s", report.broken)
    return report.ok
