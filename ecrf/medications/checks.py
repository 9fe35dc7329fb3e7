"""The concomitant-medication form's edit checks (``ecrf.crf.checks``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.medications.models import ConcomitantMedication, DoseUnit, MedRoute
from ecrf.medications.specs import CONMED
from ecrf.outcomes.checks import died_by
from ecrf.schedule.checks import dated_after_entry, live, on_form

# A dose per kilogram per minute is an infusion rate: only an intravenous (or other parenteral
# infusion) route gives it.
INFUSION_ROUTES = (MedRoute.IV, MedRoute.SC, MedRoute.OTHER)


def corticosteroid_against_eligibility(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(ConcomitantMedication, scope).filter(contradicts_eligibility=True))


register_check(EditCheck(
    code="CM-001", version=1, severity=Severity.SOFT, form=CONMED.key,
    fields=("hydrocortisone_mg_per_day", "started_on"), rule=corticosteroid_against_eligibility,
    message="This corticosteroid, taken on the screening date at a dose above the protocol's limit, contradicts "
            "the eligibility recorded at screening: check the dose and dates, and record the eligibility deviation "
            "if they are right.",
    rationale="trial.md exclusions: corticosteroids above a configured daily dose "
              "(Protocol.corticosteroid_max_hydrocortisone_mg_per_day) exclude the patient."))


def rate_by_a_non_infusion_route(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(ConcomitantMedication, scope).filter(dose_unit=DoseUnit.UG_KG_MIN)
                   .exclude(route__in=INFUSION_ROUTES))


register_check(EditCheck(
    code="CM-002", version=1, severity=Severity.SOFT, form=CONMED.key, fields=("dose_unit", "route"),
    rule=rate_by_a_non_infusion_route,
    message="The dose is given in µg/kg/min, an infusion rate, but the route is not an infusion: correct the "
            "route or the dose unit.",
    rationale="Vasopressor rates (µg/kg/min) feed the SOFA cardiovascular score; a wrong route or unit hides them."))


def stopped_after_death(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(ConcomitantMedication, scope).filter(stopped_on__isnull=False)
                   .filter(died_by("stopped_on", strictly=True)))


register_check(EditCheck(
    code="CM-003", version=1, severity=Severity.HARD, form=CONMED.key, fields=("stopped_on",),
    rule=stopped_after_death,
    message="The stop date is after the participant's recorded death: check the stop date and the Death form.",
    rationale="No medication is taken after death; one of the two dates is wrong."))


def stopped_in_the_future(scope: CheckScope) -> QuerySet[Any]:
    return dated_after_entry(ConcomitantMedication, scope, "stopped_on")


register_check(EditCheck(
    code="CM-004", version=1, severity=Severity.HARD, form=CONMED.key, fields=("stopped_on",),
    rule=stopped_in_the_future,
    message="The stop date was in the future (at the site) when it was entered: leave the stop date blank while the "
            "medication is ongoing, and enter it once it has stopped.",
    rationale="ecrf/study/limits.py: clinical dates are accepted up to the latest date on earth (UTC+14); a planned "
              "stop date entered ahead is not a recorded fact."))
