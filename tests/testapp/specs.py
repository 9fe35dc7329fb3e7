from decimal import Decimal

from ecrf.crf.registry import FormSpec, register
from tests.testapp.models import VitalSigns


def _validate(form: VitalSigns) -> dict[str, str]:
    errors = {}
    if form.temperature is not None and not Decimal("30") <= form.temperature <= Decimal("45"):
        errors["temperature"] = "Temperature must be between 30 and 45 °C."
    if form.heart_rate is not None and form.heart_rate > 300:
        errors["heart_rate"] = "Heart rate above 300/min is not possible."
    return errors


def _derive(form: VitalSigns) -> None:
    form.fever = form.temperature is not None and form.temperature >= Decimal("38.0")


VITALS = register(
    FormSpec(
        key="testapp.vitals",
        model=VitalSigns,
        fields=("measured_on", "temperature", "heart_rate", "notes"),
        derived_fields=("fever",),
        slug="test-vitals",
        label="Vital signs (test form)",
        one_per=("measured_on",),
        validate=_validate,
        derive=_derive,
    )
)
