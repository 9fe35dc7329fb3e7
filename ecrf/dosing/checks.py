"""The administration log's edit checks (``ecrf.crf.checks``): what the administration form accepts
but the protocol (trial.md "Treatment", ARCHITECTURE.md "Time") says should not happen.

The form refuses a dose after a submitted death, after the route's discontinuation or the
withdrawal from treatment and after the end of treatment *as known when the dose is entered*;
these checks find the same facts when they became true later (a discontinuation or withdrawal
dated back, a death still in draft, a first dose corrected to an earlier time), and the
plausibility questions (volumes, intervals, reasons) the form leaves to data management.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.dosing.models import Administration, Discontinuation, DiscontinuedRoute, NotGivenReason, Route
from ecrf.outcomes.models import Death
from ecrf.schedule.checks import live, live_exists, local_date, on_form, register_stale_draft_check
from ecrf.screening.models import Consent, Screening
from ecrf.study.services import current_protocol
from ecrf.study.visits import ADMINISTRATION

DISCONTINUATION = "dosing.discontinuation"
# The prepared volumes (trial.md "Treatment": 20 mL IV infusions, 0.5 mL SC syringes) and how far
# from them a recorded volume may be before it is queried (the hard limits are in the model).
EXPECTED_VOLUME_ML = {Route.IV: Decimal("20"), Route.SC: Decimal("0.5")}
VOLUME_TOLERANCE = Decimal("0.2")
# An SC dose more than one IV interval (8 h) early on its 48-hour schedule is queried: 48 - 8 = 40 h.
SC_EARLY_TOLERANCE_HOURS = 8


def _given(scope: CheckScope) -> QuerySet[Any]:
    return live(Administration, scope).filter(given=True, started_at__isnull=False)


def late_first_dose(scope: CheckScope) -> QuerySet[Any]:
    window = dt.timedelta(hours=current_protocol().sepsis_window_hours)
    earlier = live_exists(Administration, given=True, started_at__lt=OuterRef("started_at"))
    onset_long_before = live_exists(Screening, sepsis3_at__lt=OuterRef("started_at") - window)
    return on_form(_given(scope).filter(~earlier, onset_long_before))


register_check(EditCheck(
    code="DOSE-001", version=1, severity=Severity.SOFT, form=ADMINISTRATION, fields=("started_at",),
    rule=late_first_dose,
    message="The first dose was given more than 72 hours after the Sepsis-3 onset recorded at screening: check "
            "the start time and the Sepsis-3 time, and confirm the protocol deviation.",
    rationale="trial.md: the first blinded dose is given within 72 hours of meeting Sepsis-3; a later first dose "
              "is a protocol deviation (Protocol.sepsis_window_hours)."))


def sc_too_soon(scope: CheckScope) -> QuerySet[Any]:
    protocol = current_protocol()
    gap = dt.timedelta(hours=protocol.sc_interval_hours - SC_EARLY_TOLERANCE_HOURS)
    previous_close = live_exists(Administration, route=Route.SC, given=True, started_at__lt=OuterRef("started_at"),
                                 started_at__gt=OuterRef("started_at") - gap)
    return on_form(_given(scope).filter(previous_close, route=Route.SC))


register_check(EditCheck(
    code="DOSE-002", version=1, severity=Severity.SOFT, form=ADMINISTRATION, fields=("started_at",),
    rule=sc_too_soon,
    message="This SC dose is recorded less than 40 hours after the previous SC dose: check both start times.",
    rationale="trial.md: the SC study drug is given every 48 hours (Protocol.sc_interval_hours); a dose more than "
              "8 hours early is most often a wrong date or time."))


def after_discontinuation(scope: CheckScope) -> QuerySet[Any]:
    stopped = live_exists(Discontinuation, Q(route=OuterRef("route")) | Q(route=DiscontinuedRoute.BOTH),
                          discontinued_on__lt=OuterRef("local_day"))
    return on_form(_given(scope).annotate(local_day=local_date("started_at")).filter(stopped))


register_check(EditCheck(
    code="DOSE-003", version=1, severity=Severity.HARD, form=ADMINISTRATION, fields=("started_at",),
    rule=after_discontinuation,
    message="This dose is recorded as given after the permanent discontinuation of this study drug: check the "
            "dose and the date of discontinuation.",
    rationale="trial.md: discontinuation is permanent; a dose after it means one of the two records is wrong."))


def after_withdrawal(scope: CheckScope) -> QuerySet[Any]:
    withdrawn = live_exists(Consent, withdrawn_on__isnull=False, withdrawn_on__lt=OuterRef("local_day"))
    return on_form(_given(scope).annotate(local_day=local_date("started_at")).filter(withdrawn))


register_check(EditCheck(
    code="DOSE-004", version=1, severity=Severity.HARD, form=ADMINISTRATION, fields=("started_at",),
    rule=after_withdrawal,
    message="This dose is recorded as given after the participant withdrew from study treatment: check the dose "
            "and the date of withdrawal.",
    rationale="Consent withdrawal (any type) ends study treatment from the day after its date."))


def after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(_given(scope).filter(live_exists(Death, died_at__lt=OuterRef("started_at"))))


register_check(EditCheck(
    code="DOSE-005", version=1, severity=Severity.HARD, form=ADMINISTRATION, fields=("started_at",),
    rule=after_death,
    message="This dose is recorded as given after the time of death on the Death form (submitted or draft): check "
            "both times.",
    rationale="No dose is given after death; the administration form refuses it against a submitted death, and "
              "this check also catches a death still in draft."))


def after_treatment_end(scope: CheckScope) -> QuerySet[Any]:
    length = dt.timedelta(hours=24 * current_protocol().treatment_days)
    first_long_before = live_exists(Administration, given=True, started_at__lte=OuterRef("started_at") - length)
    return on_form(_given(scope).filter(first_long_before))


register_check(EditCheck(
    code="DOSE-006", version=1, severity=Severity.HARD, form=ADMINISTRATION, fields=("started_at",),
    rule=after_treatment_end,
    message="This dose is after the end of treatment (15 x 24 hours from the first dose): check its start time "
            "and the first dose's.",
    rationale="ARCHITECTURE.md \"Time\": treatment lasts 15 x 24 h from the first dose; an earlier correction of "
              "the first dose can leave later doses outside it."))


def volume_unexpected(scope: CheckScope) -> QuerySet[Any]:
    condition = Q(pk__in=[])
    for route, volume in EXPECTED_VOLUME_ML.items():
        low, high = volume * (1 - VOLUME_TOLERANCE), volume * (1 + VOLUME_TOLERANCE)
        condition |= Q(route=route) & (Q(volume_ml__lt=low) | Q(volume_ml__gt=high))
    return on_form(_given(scope).filter(condition, volume_ml__isnull=False))


register_check(EditCheck(
    code="DOSE-007", version=1, severity=Severity.SOFT, form=ADMINISTRATION, fields=("volume_ml",),
    rule=volume_unexpected,
    message="The volume given is more than 20% away from the prepared volume (IV 20 mL, SC 0.5 mL): check the "
            "volume, and record an interruption or a partial dose if there was one.",
    rationale="trial.md \"Treatment\": every IV dose is 20 mL and every SC dose 0.5 mL; another volume is a typing "
              "error or an incomplete dose."))


def interruption_too_long(scope: CheckScope) -> QuerySet[Any]:
    return on_form(_given(scope).filter(interrupted=True, interruption_minutes__gt=F("duration_minutes")))


register_check(EditCheck(
    code="DOSE-008", version=1, severity=Severity.SOFT, form=ADMINISTRATION,
    fields=("interruption_minutes", "duration_minutes"), rule=interruption_too_long,
    message="The interruption is longer than the whole administration: check the duration and the interruption.",
    rationale="An interruption is part of the administration's duration."))


def not_given_death_unrecorded(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(Administration, scope).filter(given=False, reason_not_given=NotGivenReason.DEATH)
                   .filter(~live_exists(Death)))


register_check(EditCheck(
    code="DOSE-009", version=1, severity=Severity.SOFT, form=ADMINISTRATION, fields=("reason_not_given",),
    rule=not_given_death_unrecorded,
    message="This dose was not given because of death, but no Death form is recorded: enter the Death form, or "
            "correct the reason.",
    rationale="Deaths feed the primary endpoint (day of death on = 24) and mortality; the reason alone is not a death record."))


def not_given_discontinuation_unrecorded(scope: CheckScope) -> QuerySet[Any]:
    recorded = live_exists(Discontinuation, Q(route=OuterRef("route")) | Q(route=DiscontinuedRoute.BOTH))
    withdrawn = live_exists(Consent, withdrawn_on__isnull=False)
    return on_form(live(Administration, scope).filter(given=False, reason_not_given=NotGivenReason.DISCONTINUED)
                   .filter(~recorded, ~withdrawn))


register_check(EditCheck(
    code="DOSE-010", version=1, severity=Severity.SOFT, form=ADMINISTRATION, fields=("reason_not_given",),
    rule=not_given_discontinuation_unrecorded,
    message="This dose was not given because treatment was discontinued, but no discontinuation of this study drug "
            "(or withdrawal) is recorded: enter the discontinuation form, or correct the reason.",
    rationale="trial.md: permanent discontinuation is recorded with its reason; it ends the dose schedule and the "
              "missed-dose deviations."))

register_stale_draft_check(code="DOSE-011", form=ADMINISTRATION, model=Administration, fields=("given",),
                           label="administration")
