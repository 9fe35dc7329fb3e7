"""The concomitant-medication spec's hooks: the form's dates as study days, judged by ``rules``."""

from __future__ import annotations

from django.utils import timezone

from ecrf.medications.models import ConcomitantMedication
from ecrf.medications.rules import MedicationEntry, contradicts_eligibility, medication_problems
from ecrf.schedule.days import date_of_day, day_of_date
from ecrf.study.services import current_protocol


def _entry(form: ConcomitantMedication) -> MedicationEntry:
    return MedicationEntry(dose=form.dose, started_on=form.started_on, stopped_on=form.stopped_on,
                           is_corticosteroid=form.is_corticosteroid,
                           hydrocortisone_mg_per_day=form.hydrocortisone_mg_per_day)


def validate_medication(form: ConcomitantMedication) -> dict[str, str]:
    p = form.participant
    protocol = current_protocol()
    return medication_problems(
        _entry(form), today=timezone.localdate(), protocol=protocol,
        started_day=day_of_date(p, form.started_on) if form.started_on else None,
        stopped_day=day_of_date(p, form.stopped_on) if form.stopped_on else None,
        last_day_date=date_of_day(p, max(protocol.vital_status_days)))


def derive_medication(form: ConcomitantMedication) -> None:
    # The screening date: the day before day 1 onwards (screening to randomization).
    form.contradicts_eligibility = contradicts_eligibility(
        _entry(form), screening_date=date_of_day(form.participant, 1), protocol=current_protocol())
