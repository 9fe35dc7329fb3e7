"""The adverse-event CRF, declared once (CONTRIBUTING.md "specs.py"). Its rules are pure
(safety.rules, which also documents the AE-and-death checks); safety.derivation applies them."""

from __future__ import annotations

from ecrf.crf.registry import FormSpec, register
from safety import derivation
from safety.models import SERIOUSNESS_CRITERIA, AdverseEvent

AE_FIELDS = (
    "verbatim_term", "llt_code", "onset_date", "end_date", "grade", "serious", *SERIOUSNESS_CRITERIA, "outcome",
    "action_iv", "action_sc", "causality_iv", "causality_sc", "aware_at",
    "anemia", "hb_nadir_g_dl", "transfusion_units", "bleeding", "bleeding_site", "bleeding_severity", "bleeding_intervention",
)
AE_DERIVED = ("related_iv", "related_sc", "pt_code", "pt_name", "soc_code", "soc_name", "exemption", "treatment_emergent",
              "death_check")

AE_SPEC = register(
    FormSpec(
        key="safety.adverse_event",
        model=AdverseEvent,
        fields=AE_FIELDS,
        derived_fields=AE_DERIVED,
        slug="adverse-events",
        label="Adverse event",
        one_per=None,
        validate=derivation.ae_errors,
        derive=derivation.ae_derive,
        next_page=derivation.ae_next_page,
    )
)
