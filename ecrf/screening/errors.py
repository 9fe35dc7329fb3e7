"""The screening app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class ScreeningError(AppErrorCode):
    NO_SCREENING_FORM = "no_screening_form", 409
    PHENOTYPE_FIXED = "phenotype_fixed", 409
    NOT_CONSENTED = "not_consented", 409
    NOT_ELIGIBLE = "not_eligible", 409
    CONSENT_RETRACTED = "consent_retracted", 409
    CONSENT_NOT_DONE = "consent_not_done", 409
    NO_DECISION_AWAITED = "no_patient_decision_awaited", 409
    DECISION_RECORDED = "patient_decision_recorded", 409
    CONSENT_WITHDRAWN = "consent_already_withdrawn", 409
    NO_VALID_CONSENT = "no_valid_consent", 409
    FORMS_NOT_SUBMITTED = "screening_forms_not_submitted", 409
