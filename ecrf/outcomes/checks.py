"""The outcome forms' edit checks (``ecrf.crf.checks``): vital status missing past its window,
and outcome forms that contradict a recorded death. ``died_by`` is the death-date test the other
apps' checks share (a medication stopped, an AE begun after death)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.outcomes.models import Death, Disposition, EndOfStudy, NewInfection, VitalState, VitalStatus
from ecrf.outcomes.specs import END_OF_STUDY, NEW_INFECTION, VITAL_STATUS
from ecrf.schedule.checks import live, live_rows, local_date, on_form, overdue_missing


def died_by(date_field: str, *, strictly: bool = False) -> Exists:
    """Whether the outer row's participant has a live Death whose date (site zone) is on or before
    (``strictly``: before) the outer row's date ``date_field``."""
    lookup = "lt" if strictly else "lte"
    return Exists(live_rows(Death).annotate(died_on=local_date("died_at"))
                  .filter(participant_id=OuterRef("participant_id"), **{f"died_on__{lookup}": OuterRef(date_field)}))


def vital_status_missing(scope: CheckScope) -> QuerySet[Any]:
    return overdue_missing(scope, model=VitalStatus, form_key=VITAL_STATUS.key)


register_check(EditCheck(
    code="OUT-001", version=1, severity=Severity.SOFT, form=VITAL_STATUS.key, fields=("day",), rule=vital_status_missing,
    message="The vital status of this study day (28 or 90) is missing and its window has closed: contact the "
            "participant or the family doctor and enter it (unknown, with the last contact date, if not reachable).",
    rationale="trial.md: 28-day and 90-day mortality are secondary endpoints (Protocol.vital_status_days); the "
              "visit schedule gives their windows."))


def alive_after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(VitalStatus, scope).filter(died_by("assessed_on"), vital_status=VitalState.ALIVE))


register_check(EditCheck(
    code="OUT-002", version=1, severity=Severity.HARD, form=VITAL_STATUS.key, fields=("vital_status",),
    rule=alive_after_death,
    message="The vital status says alive, but a death is recorded on or before the assessment date: correct the "
            "vital status or the Death form.",
    rationale="Mortality on day 28 and day 90 is read from both forms; they must agree."))


def completed_after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(EndOfStudy, scope).exclude(disposition=Disposition.DIED).filter(died_by("disposition_date")))


register_check(EditCheck(
    code="OUT-003", version=1, severity=Severity.HARD, form=END_OF_STUDY.key, fields=("disposition",),
    rule=completed_after_death,
    message="A death is recorded on or before the end-of-study date, but the disposition is not 'died': correct the "
            "disposition or the Death form.",
    rationale="The end-of-study disposition is the participant's status at the end; after a death it is 'died'."))


def infection_after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(NewInfection, scope).filter(died_by("onset_date", strictly=True)))


register_check(EditCheck(
    code="OUT-004", version=1, severity=Severity.HARD, form=NEW_INFECTION.key, fields=("onset_date",),
    rule=infection_after_death,
    message="The new infection's onset date is after the participant's recorded death: check the onset date and "
            "the Death form.",
    rationale="A new infection is an outcome of a living participant; after the date of death it is an entry error."))
