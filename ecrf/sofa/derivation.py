"""The Django side of daily SOFA scoring: a stored form -> ``SofaInputs`` -> the pure scorer
(``ecrf.sofa.scoring``) -> the derived columns, and the re-scoring of later days whose carried-
forward components depend on an earlier day (sofa.md "Missing data inside one day's score").

Carry-forward follows the endpoint rule "only submitted forms are data": a missing component is
carried forward from the last *submitted* earlier day, never from a draft. A draft is still scored
(provisionally, from the last submitted day) so that the person entering it sees its score, but it
is no source for other days: a draft's values may still change or be abandoned, and a submitted
day must not silently depend on them. When a draft is submitted (or a submitted day retracted),
the write listener re-scores the later days (``ecrf.sofa.services.sofa_days_rescore_after``), so
they then carry from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ecrf.sofa import scoring
from ecrf.sofa.models import OBSERVED_STATUSES, SCORING_VERSION, SofaDay
from ecrf.study.protocol import DEFAULT_PROTOCOL
from ecrf.study.services import current_protocol

INPUT_FIELDS = (
    "pao2", "pao2_unit", "fio2", "respiratory_support", "platelets", "bilirubin", "bilirubin_unit", "map",
    "dopamine", "dobutamine", "epinephrine", "norepinephrine", "gcs", "gcs_sedated", "creatinine",
    "creatinine_unit", "urine_output",
)
NORMALIZED_FIELDS = ("pao2_mmhg", "pf_ratio", "bilirubin_mg_dl", "creatinine_mg_dl")
SCORE_FIELDS = scoring.COMPONENTS + ("total",)
DERIVED_FIELDS = NORMALIZED_FIELDS + SCORE_FIELDS + (
    "missing_components", "imputed_components", "review_flags", "scoring_version")


def inputs_of(form: SofaDay) -> scoring.SofaInputs:
    values: dict[str, Any] = {}
    for name in INPUT_FIELDS:
        value = getattr(form, name)
        if value == "":  # an unset choice in a form is "not entered"
            value = None
        values[name] = value
    return scoring.SofaInputs(**values)


def day_errors(form: SofaDay, sofa_days: int = DEFAULT_PROTOCOL.sofa_days) -> dict[str, str]:
    """Hard-limit errors of the raw values and the day, per API field name."""
    errors: dict[str, str] = {}
    day = form.day
    if day is None:
        errors["day"] = f"Give the study day (1-{sofa_days})."
    elif isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= sofa_days:
        errors["day"] = f"SOFA day {day} is outside the study's SOFA days 1-{sofa_days}."
    errors.update(scoring.validate_inputs(inputs_of(form)))
    return errors


def stored_score(form: SofaDay) -> scoring.SofaScore | None:
    if form.total is None:
        return None
    return scoring.SofaScore(
        day=form.day, total=form.total, missing=tuple(form.missing_components or ()),
        imputed=dict(form.imputed_components or {}),
        **{c: getattr(form, c) for c in scoring.COMPONENTS},
    )


def _clear(form: SofaDay) -> None:
    for name in NORMALIZED_FIELDS + SCORE_FIELDS:
        setattr(form, name, None)
    form.missing_components, form.imputed_components, form.review_flags = [], {}, {}


def apply_score(form: SofaDay, previous: scoring.SofaScore | None) -> None:
    """Set the derived columns of ``form`` from its raw values and the previous day's score.
    Leaves them empty when the raw values break a hard limit (the validator reports it)."""
    if day_errors(form):
        _clear(form)
        return
    inputs = inputs_of(form)
    score = scoring.score_day(inputs, day=form.day, previous=previous)
    normalized = scoring.normalize(inputs)
    for name in NORMALIZED_FIELDS:
        setattr(form, name, getattr(normalized, name))
    for name in scoring.COMPONENTS:
        setattr(form, name, score.subscore(name))
    form.total = score.total
    form.missing_components = list(score.missing)
    form.imputed_components = dict(score.imputed)
    form.review_flags = scoring.soft_flags(inputs)
    form.scoring_version = SCORING_VERSION


def previous_score(form: SofaDay) -> scoring.SofaScore | None:
    """The stored score of the participant's last submitted SOFA day before ``form.day`` (the
    source of carried-forward components: drafts are no data, see the module docstring)."""
    previous = (SofaDay.objects.filter(participant_id=form.participant_id, day__lt=form.day,
                                       status__in=OBSERVED_STATUSES, total__isnull=False)
                .exclude(pk=form.pk).order_by("-day").first())
    return stored_score(previous) if previous is not None else None


def derived_snapshot(form: SofaDay) -> tuple[Any, ...]:
    def norm(value: Any) -> Any:
        return value.normalize() if isinstance(value, Decimal) else value

    return tuple(norm(getattr(form, name)) for name in DERIVED_FIELDS)


def rescore_series(forms: list[SofaDay]) -> list[SofaDay]:
    """Re-score a participant's counted days in day order; return the forms whose derived values
    changed (sofa.md: later days carry missing components forward from the last observed day,
    and only a submitted day is observed)."""
    changed: list[SofaDay] = []
    previous: scoring.SofaScore | None = None
    for form in sorted(forms, key=lambda f: f.day):
        before = derived_snapshot(form)
        apply_score(form, previous)
        if derived_snapshot(form) != before:
            changed.append(form)
        if form.status in OBSERVED_STATUSES:
            previous = stored_score(form) or previous
    return changed


# --- the ``sofa.sofa_day`` spec's hooks ---------------------------------------------------------


def derive_form(form: SofaDay) -> None:
    # Invariant 8: subscores and total are computed here from the raw values, never sent.
    apply_score(form, previous_score(form) if form.day else None)


def validate_form(form: SofaDay) -> dict[str, str]:
    return day_errors(form, current_protocol().sofa_days)


# --- the score preview (what a save would compute, shown as the values are typed) ---------------

# The component each entered field belongs to: a problem with a field leaves its component out of
# the preview (the scorer's own inputs per component, plus the units and flags that qualify them).
COMPONENT_OF: dict[str, str] = {
    **{name: component for component, names in scoring.COMPONENT_INPUTS.items() for name in names},
    "pao2_unit": "respiration", "respiratory_support": "respiration", "bilirubin_unit": "liver",
    "gcs_sedated": "cns", "creatinine_unit": "renal",
}
_QUALIFIERS = {"pao2_unit", "respiratory_support", "bilirubin_unit", "creatinine_unit", "gcs_sedated"}


@dataclass(frozen=True)
class ScorePreview:
    """What saving these values would derive. ``subscores[c]`` is None for a component left out
    because one of its fields has a problem (``problems``: field -> what to fix); ``total`` is then
    the sum of the scored components (``partial``), and None when the day is not known, since how
    a missing component is filled depends on the day (sofa.md "Missing data")."""

    day: int | None
    subscores: dict[str, int | None]
    total: int | None
    partial: bool
    pf_ratio: Decimal | None
    missing: tuple[str, ...]
    imputed: dict[str, str]
    unscored: tuple[str, ...]
    problems: dict[str, str] = field(default_factory=dict)


def _drop_component(form: SofaDay, component: str) -> None:
    for name, owner in COMPONENT_OF.items():
        if owner == component:
            setattr(form, name, False if name == "gcs_sedated" else None)


def score_preview(*, participant: Any, values: Mapping[str, Any], problems: Mapping[str, str]) -> ScorePreview:
    """Score entered values exactly as a save would (``validate_form`` and ``derive_form`` on an
    unsaved form of ``participant``), writing nothing. ``values`` are the entry form's parsed
    values; ``problems`` the fields it could not read, which are left out with their message.
    A field that breaks a hard limit leaves its component out too, so a half-filled or wrong
    form still shows the score of the rest, with what is missing named."""
    form = SofaDay(participant=participant, **{name: values.get(name) for name in ("day", *INPUT_FIELDS)})
    found = dict(problems)
    for name in found:
        setattr(form, name, False if name == "gcs_sedated" else None)
    unscored = {COMPONENT_OF[name] for name in found if name in COMPONENT_OF}
    for component in unscored:
        _drop_component(form, component)
    # Dropping a component clears its errors; a component's other fields may only then show theirs.
    for _round in scoring.COMPONENTS:
        errors = {name: msg for name, msg in validate_form(form).items() if name not in found}
        if not errors:
            break
        found.update(errors)
        for name in errors:
            if name in COMPONENT_OF:
                unscored.add(COMPONENT_OF[name])
                _drop_component(form, COMPONENT_OF[name])
    inputs = inputs_of(form)
    pf_ratio = scoring.normalize(inputs).pf_ratio
    order = tuple(c for c in scoring.COMPONENTS if c in unscored)
    if "day" in found:
        observed = scoring.observed_subscores(inputs)
        return ScorePreview(day=None, subscores={c: observed[c] for c in scoring.COMPONENTS}, total=None, partial=True,
                            pf_ratio=pf_ratio, missing=tuple(c for c in scoring.COMPONENTS if observed[c] is None and c not in unscored),
                            imputed={}, unscored=order, problems=found)
    derive_form(form)  # the save's own derivation, previous days included
    subscores = {c: None if c in unscored else getattr(form, c) for c in scoring.COMPONENTS}
    return ScorePreview(day=form.day, subscores=subscores, total=sum(v for v in subscores.values() if v is not None),
                        partial=bool(unscored), pf_ratio=form.pf_ratio,
                        missing=tuple(c for c in form.missing_components if c not in unscored),
                        imputed={c: how for c, how in form.imputed_components.items() if c not in unscored},
                        unscored=order, problems=found)


def problem_fields(errors: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    """The first message of each field an entry form could not read (its ``errors.items()``)."""
    return {name: str(msgs[0]) for name, msgs in errors if name != "__all__" and msgs}


def _text(value: Any) -> Any:
    # Decimals as strings, like every other decimal of the API (no float rounding).
    return None if value is None else str(value)


def api_representation(form: SofaDay, data: dict[str, Any]) -> dict[str, Any]:
    """The API groups what the server derived: ``subscores`` (an object), ``total``, the
    normalized values, and which components were missing and how they were filled."""
    data["subscores"] = {name: data.pop(name) for name in scoring.COMPONENTS}
    data["normalized"] = {name: _text(data.pop(name)) for name in NORMALIZED_FIELDS}
    data["missing"] = data.pop("missing_components")
    data["imputed"] = data.pop("imputed_components")
    data["review_flags"] = data.pop("review_flags")
    return data
