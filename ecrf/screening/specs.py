"""The three screening CRFs: the screening-log entry, consent, and the central lab's sample.

Keys match ``ecrf.study.visits`` (the screening visit's forms). Declarations only: the hooks
(``hooks``) judge the entered values by the pure rules of ``rules`` and keep the computed outcome
(``eligibility``) on the screening form up to date.
"""

from __future__ import annotations

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, Role
from ecrf.crf.registry import FormSpec, register
from ecrf.screening import hooks, services
from ecrf.screening.models import EXCLUSION_COLUMNS, CentralLabResult, Consent, Screening

SCREENING_FIELDS = (
    "sepsis3_at", "admission_route", "sofa_score_or_rise", "age", "sex", "infection_source", "covid19",
    "neutrophils_per_mm3", "corticosteroid_mg_per_day", *EXCLUSION_COLUMNS.values(), "extra_exclusions",
    "previous_screening_number",
)
SCREENING = register(FormSpec(
    key=services.SCREENING_KEY,
    model=Screening,
    fields=SCREENING_FIELDS,
    derived_fields=("eligibility", "phenotype", "ineligibility_reasons", "awaiting", "assessed_at",
                    "phenotype_fixed_at"),
    slug="screenings",
    label="Screening",
    one_per=(),
    validate=hooks.validate_screening,
    derive=hooks.derive_screening,
))


# --- consent ------------------------------------------------------------------------------------

CONSENT = register(FormSpec(
    key=services.CONSENT_KEY,
    model=Consent,
    fields=("consent_by", "representative_relation", "decision", "form_version", "consented_at"),
    derived_fields=("patient_decision", "patient_decision_at", "patient_form_version", "withdrawal_type",
                    "withdrawn_on"),
    slug="consents",
    label="Consent",
    one_per=(),
    validate=hooks.validate_consent,
))


# --- central lab ------------------------------------------------------------------------------

LAB_READ_ROLES = CASEBOOK_READ_ROLES | {Role.LAB}
CENTRAL_LAB = register(FormSpec(
    key="screening.central_lab",
    model=CentralLabResult,
    fields=("ferritin", "ferritin_unit", "ferritin_sampled_at", "ferritin_resulted_at", "hla_dr",
            "hla_dr_sampled_at", "hla_dr_resulted_at"),
    slug="lab-results",
    label="Central-lab result",
    # The lab enters (all sites, blinded); site staff see results and phenotype, not edit them.
    write_roles=frozenset({Role.LAB}),
    read_roles=LAB_READ_ROLES,
    one_per=(),
    validate=hooks.validate_lab_values,
))
