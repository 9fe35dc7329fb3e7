"""The daily SOFA form (``sofa.sofa_day``): raw bedside values in, subscores and total out.

Declarations only: the scoring is ``scoring`` (pure), its hooks are in ``derivation``."""

from __future__ import annotations

from ecrf.crf.registry import FormSpec, register
from ecrf.sofa import derivation
from ecrf.sofa.models import SofaDay

SOFA_DAY = register(
    FormSpec(
        key="sofa.sofa_day",
        model=SofaDay,
        fields=("day",) + derivation.INPUT_FIELDS,
        derived_fields=derivation.DERIVED_FIELDS,
        slug="sofa",
        label="SOFA day",
        one_per=("day",),
        requires_randomized=True,
        validate=derivation.validate_form,
        derive=derivation.derive_form,
        representation=derivation.api_representation,
        detail_template="sofa/score_summary.html",
        preview_url="sofa:preview",
        # By organ system, in the order of the SOFA table (sofa.md), each with its units.
        sections=(("Respiration", ("pao2", "pao2_unit", "fio2", "respiratory_support")),
                  ("Coagulation", ("platelets",)),
                  ("Liver", ("bilirubin", "bilirubin_unit")),
                  ("Cardiovascular", ("map", "dopamine", "dobutamine", "epinephrine", "norepinephrine")),
                  ("Central nervous system", ("gcs", "gcs_sedated")),
                  ("Renal", ("creatinine", "creatinine_unit", "urine_output"))),
    )
)
