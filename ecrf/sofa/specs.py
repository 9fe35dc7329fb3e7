"""The daily SOFA form (``sofa.sofa_day``): raw bedside values in, subscores and total out."""

from __future__ import annotations

from typing import Any

from ecrf.crf.registry import FormSpec, register
from ecrf.sofa import derivation
from ecrf.sofa.models import SofaDay


def _derive(form: SofaDay) -> None:
    # Invariant 8: subscores and total are computed here from the raw values, never sent.
    derivation.apply_score(form, derivation.previous_score(form) if form.day else None)


def _validate(form: SofaDay) -> dict[str, str]:
    from ecrf.study.services import current_protocol

    return derivation.day_errors(form, current_protocol().sofa_days)


def _text(value: Any) -> Any:
    # Decimals as strings, like every other decimal of the API (no float rounding).
    return None if value is None else str(value)


def _representation(form: SofaDay, data: dict[str, Any]) -> dict[str, Any]:
    """The API groups what the server derived: ``subscores`` (an object), ``total``, the
    normalized values, and which components were missing and how they were filled."""
    data["subscores"] = {name: data.pop(name) for name in derivation.scoring.COMPONENTS}
    data["normalized"] = {name: _text(data.pop(name)) for name in derivation.NORMALIZED_FIELDS}
    data["missing"] = data.pop("missing_components")
    data["imputed"] = data.pop("imputed_components")
    data["review_flags"] = data.pop("review_flags")
    return data


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
        validate=_validate,
        derive=_derive,
        representation=_representation,
        detail_template="sofa/score_summary.html",
    )
)
