"""The adverse-event form's edit checks (``ecrf.crf.checks``): AE dates against consent, end of
study and death; serious events without their report; fatal events against the Death form (both
ways); special-interest values that are possible but unusual; incomplete outcomes; stale drafts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Value

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.crf.models import EntryStatus
from ecrf.outcomes.checks import died_by
from ecrf.outcomes.models import Death, EndOfStudy
from ecrf.outcomes.specs import DEATH
from ecrf.schedule.checks import (
    dated_after_entry,
    live,
    live_exists,
    live_rows,
    local_date,
    on_form,
    register_stale_draft_check,
)
from ecrf.screening.models import Consent
from ecrf.study.services import current_protocol
from safety.models import AdverseEvent, Grade, Outcome, ReportStatus, SAEReport
from safety.specs import AE_SPEC

AE = AE_SPEC.key
# Haemoglobin nadir of an anemia event: below this (g/dL) it is possible but rare (safety/models.py
# HB_NADIR_G_DL has the hard limits); above the protocol's anemia threshold it is no anemia.
HB_NADIR_SOFT_LOW_G_DL = "4"
# Outcomes that mean the event is over, so it has an end date.
ENDED_OUTCOMES = (Outcome.RECOVERED, Outcome.SEQUELAE, Outcome.FATAL)


def _fatal() -> Q:
    return Q(grade=Grade.DEATH) | Q(outcome=Outcome.FATAL)


def onset_before_consent(scope: CheckScope) -> QuerySet[Any]:
    consents = live_rows(Consent).annotate(on=local_date("consented_at")).filter(participant_id=OuterRef("participant_id"))
    # Before the first consent: a consent exists, and none is dated on or before the onset (site dates).
    return on_form(live(AdverseEvent, scope).filter(Exists(consents), ~Exists(consents.filter(on__lte=OuterRef("onset_date")))))


register_check(EditCheck(
    code="AE-001", version=1, severity=Severity.SOFT, form=AE, fields=("onset_date",), rule=onset_before_consent,
    message="The AE began before the participant's consent: a condition present before the trial is medical "
            "history, not an AE; check the onset date, or retract the AE and record it as history.",
    rationale="safety.md: an AE is an untoward occurrence in a participant; before consent the patient is not one."))


def onset_after_end_of_study(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(AdverseEvent, scope).filter(live_exists(EndOfStudy, disposition_date__lt=OuterRef("onset_date"))))


register_check(EditCheck(
    code="AE-002", version=1, severity=Severity.SOFT, form=AE, fields=("onset_date",), rule=onset_after_end_of_study,
    message="The AE began after the participant's end of study: check the onset date and the end-of-study date.",
    rationale="Adverse events are collected up to the end of study; a later onset is outside the trial's record."))


def serious_without_report(scope: CheckScope) -> QuerySet[Any]:
    hours = current_protocol().sae_initial_report_hours
    due = Value(scope.now - dt.timedelta(hours=hours), output_field=DateTimeField())
    reported = Exists(SAEReport.objects.filter(adverse_event_id=OuterRef("pk"), status=ReportStatus.SUBMITTED))
    return on_form(live(AdverseEvent, scope).filter(status=EntryStatus.SUBMITTED, serious=True, exemption="",
                                                    aware_at__lt=due).filter(~reported))


register_check(EditCheck(
    code="AE-003", version=1, severity=Severity.HARD, form=AE, fields=("serious",), rule=serious_without_report,
    message="This serious AE has no submitted SAE report 24 hours after the investigator became aware: submit the "
            "SAE report to the sponsor now.",
    rationale="safety.md deadlines: the site reports an SAE to the sponsor within 24 hours of awareness (CTR Art. 41; "
              "Protocol.sae_initial_report_hours); exempted events are recorded without it."))


def fatal_without_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(AdverseEvent, scope).filter(_fatal()).filter(~live_exists(Death)))


register_check(EditCheck(
    code="AE-004", version=1, severity=Severity.HARD, form=AE, fields=("outcome", "grade"), rule=fatal_without_death,
    message="This AE is fatal but no death is recorded for the participant: enter the Death form (date, time and "
            "cause), or correct the AE's outcome.",
    rationale="safety/rules.py \"AE and death\": the Death form feeds the endpoints (day of death on = 24) and "
              "mortality; a fatal AE without it leaves them wrong."))


def death_without_fatal_ae(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(Death, scope).filter(~live_exists(AdverseEvent, _fatal())))


register_check(EditCheck(
    code="AE-005", version=1, severity=Severity.SOFT, form=DEATH.key, fields=("cause",), rule=death_without_fatal_ae,
    message="No AE with a fatal outcome is recorded for this death: if an adverse event caused it, record that AE "
            "as fatal; if the death is from the underlying sepsis (an exempted efficacy endpoint), confirm.",
    rationale="safety.md exempted events: a death from sepsis may be recorded on the Death form only, so this is a "
              "question the site confirms or corrects, not an error."))


def onset_after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(AdverseEvent, scope).filter(died_by("onset_date", strictly=True)))


register_check(EditCheck(
    code="AE-006", version=1, severity=Severity.HARD, form=AE, fields=("onset_date",), rule=onset_after_death,
    message="The AE began after the participant's recorded death: check the onset date and the Death form.",
    rationale="safety/rules.py: the AE form refuses it against a death already recorded; this finds the death "
              "recorded later with an earlier date."))


def unusual_hb_nadir(scope: CheckScope) -> QuerySet[Any]:
    high = current_protocol().anemia_hemoglobin_g_dl
    return on_form(live(AdverseEvent, scope).filter(anemia=True)
                   .filter(Q(hb_nadir_g_dl__lt=HB_NADIR_SOFT_LOW_G_DL) | Q(hb_nadir_g_dl__gt=high)))


register_check(EditCheck(
    code="AE-007", version=1, severity=Severity.SOFT, form=AE, fields=("hb_nadir_g_dl",), rule=unusual_hb_nadir,
    message="The hemoglobin nadir of this anemia event is unusual (below 4 g/dL, or above the protocol's anemia "
            "threshold of 10 g/dL): check the value and its unit (g/L entered as g/dL).",
    rationale="safety.md: anemia is an AE of special interest (signal with anakinra); its nadir grades it "
              "(Protocol.anemia_hemoglobin_g_dl)."))


def ended_without_end_date(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(AdverseEvent, scope).filter(outcome__in=ENDED_OUTCOMES, end_date__isnull=True))


register_check(EditCheck(
    code="AE-008", version=1, severity=Severity.SOFT, form=AE, fields=("end_date",), rule=ended_without_end_date,
    message="The AE's outcome says it is over (recovered, with sequelae, or fatal) but it has no end date: enter the "
            "end date.",
    rationale="The AE's duration is analysed (SDTM AEENDTC); an ended event without its end date counts as ongoing."))


def grade4_not_life_threatening(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(AdverseEvent, scope).filter(grade=Grade.LIFE_THREATENING, serious_life_threatening=False))


register_check(EditCheck(
    code="AE-009", version=1, severity=Severity.SOFT, form=AE, fields=("grade", "serious_life_threatening"),
    rule=grade4_not_life_threatening,
    message="The AE is CTCAE grade 4 (life-threatening) but the seriousness criterion 'life-threatening' is not "
            "ticked: tick it if the participant was at risk of death at the time, or confirm the grade.",
    rationale="safety.md: severity is not seriousness, but a grade-4 event is most often a life-threatening SAE, "
              "whose SUSAR clock is 7 days instead of 15."))

def dated_in_the_future(scope: CheckScope) -> QuerySet[Any]:
    return dated_after_entry(AdverseEvent, scope, "onset_date", "end_date")


register_check(EditCheck(
    code="AE-011", version=1, severity=Severity.HARD, form=AE, fields=("onset_date", "end_date"),
    rule=dated_in_the_future,
    message="The onset or end date was in the future (at the site) when it was entered: correct the date.",
    rationale="ecrf/study/limits.py: clinical dates are accepted up to the latest date on earth (UTC+14) so that no "
              "site is refused its own today; a date after the site's own today is an entry error."))

register_stale_draft_check(code="AE-010", form=AE, model=AdverseEvent, fields=("verbatim_term",), label="adverse event")
