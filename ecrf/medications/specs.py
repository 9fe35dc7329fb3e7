from __future__ import annotations

from django.utils import timezone

from ecrf.crf.registry import FormSpec, register
from ecrf.medications.models import ConcomitantMedication
from ecrf.schedule.days import date_of_day, day_of_date
from ecrf.study.services import current_protocol


def _validate(form: ConcomitantMedication) -> dict[str, str]:
    p = form.participant
    protocol = current_protocol()
    if form.dose is not None and form.dose <= 0:
        return {"dose": "The dose must be more than 0."}
    if form.started_on and form.started_on > timezone.localdate():
        return {"started_on": "The start date cannot be in the future."}
    if form.started_on and form.stopped_on and form.stopped_on < form.started_on:
        return {"stopped_on": "The stop date is before the start date."}
    last = max(protocol.vital_status_days)
    if form.stopped_on and day_of_date(p, form.stopped_on) < 0:
        return {"stopped_on": "Medications stopped before screening are not concomitant; leave them out."}
    if form.started_on and day_of_date(p, form.started_on) > last:
        return {"started_on": f"The start date is after day {last} ({date_of_day(p, last)}), the end of follow-up."}
    if form.is_corticosteroid and form.hydrocortisone_mg_per_day is None:
        return {"hydrocortisone_mg_per_day": "Give the daily dose in hydrocortisone equivalents for a corticosteroid."}
    if not form.is_corticosteroid and form.hydrocortisone_mg_per_day is not None:
        return {"is_corticosteroid": "Tick 'corticosteroid' to record a hydrocortisone-equivalent dose."}
    return {}


def _derive(form: ConcomitantMedication) -> None:
    protocol = current_protocol()
    form.contradicts_eligibility = False
    if form.is_corticosteroid and form.hydrocortisone_mg_per_day is not None and form.started_on:
        # The screening date: the day before day 1 onwards (screening to randomization).
        screening = date_of_day(form.participant, 1)
        active = form.started_on <= screening and (form.stopped_on is None or form.stopped_on >= screening)
        form.contradicts_eligibility = active and form.hydrocortisone_mg_per_day > protocol.corticosteroid_max_hydrocortisone_mg_per_day


CONMED = register(FormSpec(
    key="medications.concomitant", model=ConcomitantMedication,
    fields=("drug", "indication", "dose", "dose_unit", "route", "started_on", "stopped_on", "is_corticosteroid",
            "hydrocortisone_mg_per_day", "is_vasopressor", "is_antimicrobial"),
    derived_fields=("contradicts_eligibility",),
    slug="medications", label="Concomitant medication", one_per=None, requires_randomized=True,
    validate=_validate, derive=_derive,
))
