"""The protocol-deviation form's edit checks (``ecrf.crf.checks``): deviation dates outside the
participant's time in the trial, and major deviations without a corrective action."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.deviations.models import Deviation, Impact
from ecrf.deviations.specs import DEVIATION
from ecrf.outcomes.models import EndOfStudy
from ecrf.schedule.checks import LocalDate, latest_value, live, live_exists, on_form, site_zone
from ecrf.screening.models import Screening


def before_screening(scope: CheckScope) -> QuerySet[Any]:
    onset_day = LocalDate(latest_value(Screening, "sepsis3_at"), site_zone())
    return on_form(live(Deviation, scope).annotate(onset_day=onset_day).filter(occurred_on__lt=onset_day))


register_check(EditCheck(
    code="DV-001", version=1, severity=Severity.SOFT, form=DEVIATION.key, fields=("occurred_on",),
    rule=before_screening,
    message="The deviation is dated before the participant's Sepsis-3 onset (before the screening): check the date.",
    rationale="A protocol deviation concerns a participant in the trial; nothing of the trial happens before the "
              "sepsis episode that brought the patient to screening."))


def after_end_of_study(scope: CheckScope) -> QuerySet[Any]:
    ended = live_exists(EndOfStudy, disposition_date__lt=OuterRef("occurred_on"))
    return on_form(live(Deviation, scope).filter(ended))


register_check(EditCheck(
    code="DV-002", version=1, severity=Severity.SOFT, form=DEVIATION.key, fields=("occurred_on",),
    rule=after_end_of_study,
    message="The deviation is dated after the participant's end of study: check the date of the deviation and of "
            "the end of study.",
    rationale="After the end of study no procedure of the protocol applies."))


def major_without_action(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(Deviation, scope).filter(impact=Impact.MAJOR, corrective_action__regex=r"^\s*$"))


register_check(EditCheck(
    code="DV-003", version=1, severity=Severity.SOFT, form=DEVIATION.key, fields=("corrective_action",),
    rule=major_without_action,
    message="A major deviation has no corrective action: describe what was done so that it does not happen again.",
    rationale="ICH E6: a major deviation (one that may affect safety or the primary endpoint) needs its corrective "
              "and preventive action documented."))
