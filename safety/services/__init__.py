"""Every safety write, by family of actions (ARCHITECTURE.md "Inside an app": services):

- ``ae``: what a saved adverse event (or Death form) sets in motion;
- ``reports``: SAE report submission and the sponsor's follow-up requests;
- ``expedited``: the expectedness assessment, the SUSAR unblinding and decision, SUSAR reports;
- ``adjudication``: the independent reviews;
- ``clock_job``: due-soon and overdue notifications;
- ``common``: the audited save and the clocks' start, meeting and closing.

The public names are importable from ``safety.services`` itself.
"""

from safety.clocks import CLOCK_LABELS, SUSAR_KINDS
from safety.services.adjudication import REVIEW_FIELDS, adjudication_review_submit, review_access_denied
from safety.services.ae import adverse_event_changed, ae_death_recheck
from safety.services.clock_job import NOTIFICATION_KIND, clocks_evaluate
from safety.services.common import REPORTED_FIELDS, ae_snapshot, clock_start, pv_clock_start
from safety.services.expedited import assessment_record, susar_report_submit, susar_unblind_and_decide
from safety.services.reports import FOLLOWUP_KIND, followup_request, sae_report_submit

__all__ = [
    "CLOCK_LABELS", "FOLLOWUP_KIND", "NOTIFICATION_KIND", "REPORTED_FIELDS", "REVIEW_FIELDS", "SUSAR_KINDS",
    "adjudication_review_submit", "adverse_event_changed", "ae_death_recheck", "ae_snapshot", "assessment_record",
    "clock_start", "clocks_evaluate", "followup_request", "pv_clock_start", "review_access_denied", "sae_report_submit",
    "susar_report_submit", "susar_unblind_and_decide",
]
