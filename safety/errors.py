"""The safety app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class SafetyError(AppErrorCode):
    SAE_REPORT_ALREADY_SUBMITTED = "sae_report_already_submitted", 409
    FOLLOWUP_NEEDS_SUBMITTED_SERIOUS_AE = "followup_needs_submitted_serious_ae", 409
    FOLLOWUP_ON_EXEMPT_EVENT = "followup_on_exempt_event", 409
    FOLLOWUP_BEFORE_INITIAL_REPORT = "followup_before_initial_report", 409
    ASSESSMENT_NEEDS_SUBMITTED_SERIOUS_AE = "assessment_needs_submitted_serious_ae", 409
    ALREADY_ASSESSED = "already_assessed", 409
    PHENOTYPE_UNKNOWN = "phenotype_unknown", 409
    CASE_NOT_OPEN = "susar_case_not_open", 409
    UNBLINDING_NO_ANSWER = "unblinding_no_answer", 409
    NOT_A_DECIDED_SUSAR_CLOCK = "not_a_decided_susar_clock", 409
    CLOCK_ALREADY_MET = "clock_already_met", 409
    ADJUDICATION_FINAL = "adjudication_final", 409
    ALREADY_REVIEWED = "already_reviewed", 409
