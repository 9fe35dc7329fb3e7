"""The Celery app and its beat schedule (ARCHITECTURE.md "Background jobs")."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")

app = Celery("ecrf")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Re-enqueue outbox entries whose delivery task was lost or failed (retried until delivered).
    "notifications-deliver-pending": {
        "task": "ecrf.notifications.tasks.deliver_pending",
        "schedule": 60.0,
    },
    # Safety reporting clocks: due-soon / overdue notifications and escalation.
    "safety-evaluate-clocks": {
        "task": "safety.tasks.evaluate_clocks",
        "schedule": 120.0,
    },
    # SAP endpoints: nightly catch-up re-derivation; saves re-derive on commit already.
    "sofa-rederive-endpoints": {
        "task": "ecrf.sofa.tasks.rederive_all_endpoints",
        "schedule": crontab(hour=2, minute=30),
    },
    # Missed doses never logged: raise the missed-dose deviation once per scheduled dose.
    "dosing-sweep-missed-doses": {
        "task": "ecrf.dosing.tasks.sweep_missed_doses",
        "schedule": crontab(minute="*/15"),
    },
    # Edit checks: the nightly whole-study sweep (saves run a participant's checks on commit
    # already); it catches what no save triggers, such as a form that became overdue.
    "queries-sweep-checks": {
        "task": "ecrf.queries.tasks.sweep_checks",
        "schedule": crontab(hour=3, minute=10),
    },
    # Part 11: periodic verification of the audit trail's hash chain.
    "audit-verify-chain": {
        "task": "ecrf.audit.tasks.verify_audit_chain",
        "schedule": crontab(minute=17),
    },
}
