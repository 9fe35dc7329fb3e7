"""The daily SOFA form's edit checks (``ecrf.crf.checks``): values the form accepted beyond the
scoring module's soft limits (``scoring.SOFT_LIMITS``), missing days past their window, components
missing (imputed) on several consecutive days, a SOFA day after the recorded death, and drafts
left unsubmitted."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.outcomes.models import Death
from ecrf.schedule.checks import live, live_exists, on_form, overdue_missing, register_stale_draft_check
from ecrf.sofa.models import RespiratorySupport, SofaDay
from ecrf.sofa.scoring import COMPONENTS, SOFT_FIO2_WITHOUT_SUPPORT_MAX, SOFT_LIMITS
from ecrf.study.visits import SOFA_DAY

# A component missing on this many consecutive days has a SOFA made of carried-forward values.
CONSECUTIVE_IMPUTED_DAYS = 3


def beyond_soft_limits(field: str) -> Q:
    """Rows whose ``field`` lies outside its soft limit for the unit entered (``SOFT_LIMITS`` is
    keyed by (field, unit); unit None for a field with a single unit)."""
    found = Q(pk__in=[])
    for (name, unit), limit in SOFT_LIMITS.items():
        if name != field:
            continue
        outside = Q(pk__in=[])
        if limit.low is not None:
            outside |= Q(**{f"{field}__lte" if limit.low_exclusive else f"{field}__lt": limit.low})
        if limit.high is not None:
            outside |= Q(**{f"{field}__gt": limit.high})
        found |= (Q(**{f"{field}_unit": unit}) if unit is not None else Q()) & outside
    return found


def _soft(*fields: str):  # noqa: ANN202 - a rule factory
    def rule(scope: CheckScope) -> QuerySet[Any]:
        condition = Q(pk__in=[])
        for field in fields:
            condition |= beyond_soft_limits(field)
        return on_form(live(SofaDay, scope).filter(condition))

    rule.__qualname__ = f"soft_limits_{'_'.join(fields)}"
    return rule


def _limit_text(field: str) -> str:
    parts = []
    for (name, _unit), limit in SOFT_LIMITS.items():
        if name == field:
            low = f"{limit.low}" if limit.low is not None else ""
            parts.append(f"{low}-{limit.high} {limit.unit}" if low else f"up to {limit.high} {limit.unit}")
    return " or ".join(parts)


def _range_text(fields: tuple[str, ...]) -> str:
    if len(fields) == 1:
        return _limit_text(fields[0])
    return "; ".join(f"{f}: {_limit_text(f)}" for f in fields)


_SOFT_CHECKS = (
    ("SOFA-001", ("pao2",), "PaO2"),
    ("SOFA-002", ("platelets",), "platelet count"),
    ("SOFA-003", ("bilirubin",), "bilirubin"),
    ("SOFA-004", ("map",), "mean arterial pressure"),
    ("SOFA-005", ("dopamine", "dobutamine", "epinephrine", "norepinephrine"), "catecholamine dose"),
    ("SOFA-006", ("creatinine",), "creatinine"),
    ("SOFA-007", ("urine_output",), "urine output"),
)

for _code, _fields, _label in _SOFT_CHECKS:
    register_check(EditCheck(
        code=_code, version=1, severity=Severity.SOFT, form=SOFA_DAY, fields=_fields, rule=_soft(*_fields),
        message=f"The {_label} is outside the usual range ({_range_text(_fields)}): "
                "check it against the source and its unit, correct it, or confirm it is right.",
        rationale="sofa.md scoring: a value the form accepts but that is rarely seen (scoring.SOFT_LIMITS) is most "
                  "often a unit slip or a typing error, and it moves the SOFA subscore and the primary endpoint."))


def fio2_without_support(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(SofaDay, scope).filter(respiratory_support=RespiratorySupport.NONE,
                                               fio2__gt=SOFT_FIO2_WITHOUT_SUPPORT_MAX))


register_check(EditCheck(
    code="SOFA-008", version=1, severity=Severity.SOFT, form=SOFA_DAY, fields=("fio2", "respiratory_support"),
    rule=fio2_without_support,
    message=f"FiO2 above {SOFT_FIO2_WITHOUT_SUPPORT_MAX} is recorded without respiratory support: confirm the FiO2, "
            "or record NIV/CPAP or invasive ventilation if the patient had it.",
    rationale="sofa.md: without respiratory support the respiration score is capped at 2, so missing support "
              "under-scores a high FiO2; such an FiO2 needs a reservoir mask or high flow."))


def missing_days(scope: CheckScope) -> QuerySet[Any]:
    return overdue_missing(scope, model=SofaDay, form_key=SOFA_DAY, until_death=True)


register_check(EditCheck(
    code="SOFA-009", version=1, severity=Severity.SOFT, form=SOFA_DAY, fields=("day",), rule=missing_days,
    message="The SOFA form of this study day is missing and its window has closed: enter it, or mark it not "
            "done with the reason.",
    rationale="trial.md primary endpoint: SOFA days 1-9 make the primary response (day 1 missing makes the "
              "participant not evaluable, a later day is carried forward); the visit schedule gives each day's window."))


def imputed_consecutive(scope: CheckScope) -> QuerySet[Any]:
    condition = Q(pk__in=[])
    for component in COMPONENTS:
        run = Q(imputed_components__has_key=component)
        for back in range(1, CONSECUTIVE_IMPUTED_DAYS):
            run &= Q(live_exists(SofaDay, day=OuterRef("day") - back, imputed_components__has_key=component))
        condition |= run
    return on_form(live(SofaDay, scope).filter(condition))


register_check(EditCheck(
    code="SOFA-010", version=1, severity=Severity.SOFT, form=SOFA_DAY, fields=("day",), rule=imputed_consecutive,
    message=f"A SOFA component has been missing (filled in) on {CONSECUTIVE_IMPUTED_DAYS} consecutive days up to "
            "this one: enter the values measured on these days, or confirm that they were not measured.",
    rationale="sofa.md missing components: a missing component is carried forward from the last observed day; over "
              "several days the score no longer reflects the patient."))


def after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(SofaDay, scope).filter(live_exists(Death, study_day__lt=OuterRef("day"))))


register_check(EditCheck(
    code="SOFA-011", version=1, severity=Severity.HARD, form=SOFA_DAY, fields=("day",), rule=after_death,
    message="This SOFA day is after the day of the participant's recorded death: check the day and the date of "
            "death, and retract the form if it was entered for the wrong participant or day.",
    rationale="trial.md primary endpoint: from the day of death on every day counts 24; an observed SOFA after "
              "death contradicts the Death form."))

register_stale_draft_check(code="SOFA-012", form=SOFA_DAY, model=SofaDay, fields=("day",), label="SOFA day")
