"""The dosing specs' hooks: read the form and the participant's record, judge them by ``rules``."""

from __future__ import annotations

from django.utils import timezone

from ecrf.crf.models import EntryStatus
from ecrf.dosing.models import Administration, Discontinuation
from ecrf.dosing.rules import (
    AdministrationContext,
    AdministrationEntry,
    DiscontinuationEntry,
    administration_problems,
    discontinuation_problems,
    discontinuation_routes_clashing,
)
from ecrf.dosing.selectors import discontinuations_for, discontinued_on, schedule_anchor
from ecrf.outcomes.selectors import death_for
from ecrf.schedule import adapters
from ecrf.schedule.days import date_of_day, day_of_date, day_of_moment, zone_of
from ecrf.study.services import current_protocol


def administration_entry(form: Administration) -> AdministrationEntry:
    """What the rules judge of an administration form (also the bulk generator's input)."""
    return AdministrationEntry(
        route=form.route, dose_number=form.dose_number, given=form.given, reason_not_given=form.reason_not_given,
        reason_other=form.reason_other, started_at=form.started_at, duration_minutes=form.duration_minutes,
        volume_ml=form.volume_ml, interrupted=form.interrupted, interruption_minutes=form.interruption_minutes,
        interruption_notes=form.interruption_notes)


def validate_administration(form: Administration) -> dict[str, str]:
    p = form.participant
    entry = administration_entry(form)
    death = death_for(p)
    withdrawal = adapters.withdrawal_for(p)
    context = AdministrationContext(
        randomized_at=p.randomized_at, zone=zone_of(p), first_other_dose_at=schedule_anchor(p, exclude_pk=form.pk),
        died_at=death.died_at if death is not None else None,
        treatment_withdrawn_on=withdrawal.date if withdrawal is not None else None,
        route_discontinued_on=discontinued_on(discontinuations_for(p), form.route))
    return administration_problems(entry, context=context, protocol=current_protocol(), now=timezone.now())


def derive_administration(form: Administration) -> None:
    form.study_day = day_of_moment(form.participant, form.started_at) if form.started_at else None


def validate_discontinuation(form: Discontinuation) -> dict[str, str]:
    p = form.participant
    protocol = current_protocol()
    entry = DiscontinuationEntry(route=form.route, discontinued_on=form.discontinued_on,
                                 reason=form.discontinuation_reason, reason_other=form.reason_other)
    others = (Discontinuation.objects.filter(participant_id=p.pk).exclude(status=EntryStatus.RETRACTED)
              .exclude(pk=form.pk).filter(route__in=discontinuation_routes_clashing(form.route)))
    return discontinuation_problems(
        entry, study_day=day_of_date(p, form.discontinued_on) if form.discontinued_on else None,
        first_day=date_of_day(p, 1), last_day=date_of_day(p, protocol.treatment_days), today=timezone.localdate(),
        protocol=protocol, already_recorded=others.exists())
