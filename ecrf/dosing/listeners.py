"""What an administration's write raises (ecrf.crf.listeners): system protocol deviations."""

from __future__ import annotations

from django.utils import timezone

from ecrf.crf.listeners import Write, on_written
from ecrf.crf.models import EntryStatus
from ecrf.deviations.models import DeviationCategory, Impact
from ecrf.deviations.services import deviation_raise_system
from ecrf.dosing.services import missed_dose_raise
from ecrf.dosing.selectors import schedule_anchor
from ecrf.dosing.models import MISSED_DOSE_REASONS
from ecrf.dosing.rules import ROUTE_LABEL, due_times
from ecrf.schedule import adapters, timeline
from ecrf.schedule.days import zone_of
from ecrf.study.services import current_protocol


@on_written("dosing.administration")
def administration_written(write: Write) -> None:
    """The system deviations an administration reveals: a first dose given later than the
    Sepsis-3 window allows, and a dose missed for a reason that makes it a deviation."""
    form = write.instance
    if form.status == EntryStatus.RETRACTED:
        return
    p = form.participant
    protocol = current_protocol()
    if form.given and form.started_at is not None:
        first = schedule_anchor(p, exclude_pk=form.pk)
        if first is None or form.started_at <= first:
            sepsis3_at = adapters.sepsis3_at_for(p)
            if sepsis3_at is not None and not timeline.within_sepsis_window(sepsis3_at, form.started_at, protocol=protocol):
                hours = (form.started_at - sepsis3_at).total_seconds() / 3600
                deviation_raise_system(
                    participant=p, rule_code="late_first_dose", category=DeviationCategory.LATE_FIRST_DOSE,
                    description=(f"First dose of study drug given {hours:.1f} h after Sepsis-3 onset "
                                 f"(limit {protocol.sepsis_window_hours} h)."),
                    occurred_on=timezone.localtime(form.started_at, timezone=zone_of(p)).date(), impact=Impact.MAJOR)
    if not form.given and form.reason_not_given in MISSED_DOSE_REASONS:
        label = ROUTE_LABEL.get(form.route, "study drug")
        anchor = schedule_anchor(p) or p.randomized_at
        due = due_times(form.route, anchor, protocol)[form.dose_number - 1]
        missed_dose_raise(participant=p, route=form.route, dose_number=form.dose_number, due=due,
                          description=f"{label} dose {form.dose_number} not given ({form.get_reason_not_given_display()}).")
