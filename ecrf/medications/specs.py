"""The concomitant-medication form (declarations only: the rules are in ``rules``)."""

from __future__ import annotations

from ecrf.crf.registry import FormSpec, register
from ecrf.medications import hooks
from ecrf.medications.models import ConcomitantMedication

CONMED = register(FormSpec(
    key="medications.concomitant", model=ConcomitantMedication,
    fields=("drug", "indication", "dose", "dose_unit", "route", "started_on", "stopped_on", "is_corticosteroid",
            "hydrocortisone_mg_per_day", "is_vasopressor", "is_antimicrobial"),
    derived_fields=("contradicts_eligibility",),
    slug="medications", label="Concomitant medication", one_per=None, requires_randomized=True,
    validate=hooks.validate_medication, derive=hooks.derive_medication,
))
