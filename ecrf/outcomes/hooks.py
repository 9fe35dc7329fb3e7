"""The outcome specs' hooks: read the form and the participant's record, judge them by ``rules``."""

from __future__ import annotations

from django.utils import timezone

from ecrf.crf.models import EntryStatus
from ecrf.dosing.selectors import given_after
from ecrf.outcomes.models import Death, EndOfStudy, NewInfection, VitalStatus
from ecrf.outcomes.rules import (
    GivenDose,
    VisitWindow,
    VitalEntry,
    death_problems,
    end_of_study_problems,
    infection_problems,
    vital_status_problems,
)
from ecrf.schedule.days import date_of_day, day_of_date, day_of_moment, zone_of
from ecrf.study.services import current_protocol
from ecrf.study.visits import visit_for


def _death_recorded(participant_id: int) -> bool:
    return Death.objects.filter(participant_id=participant_id, status=EntryStatus.SUBMITTED).exists()


def validate_death(form: Death) -> dict[str, str]:
    p = form.participant
    if form.died_at is None:
        return {}
    later = [GivenDose(route_label=a.get_route_display(), dose_number=a.dose_number, started_at=a.started_at)
             for a in given_after(p, form.died_at)]
    return death_problems(died_at=form.died_at, randomized_at=p.randomized_at, now=timezone.now(), zone=zone_of(p),
                          given_after=later)


def derive_death(form: Death) -> None:
    form.study_day = day_of_moment(form.participant, form.died_at) if form.died_at else None


def validate_vital_status(form: VitalStatus) -> dict[str, str]:
    protocol = current_protocol()
    visit = visit_for("outcomes.vital_status", form.day, protocol) if form.day in protocol.vital_status_days else None
    window = (VisitWindow(target=date_of_day(form.participant, form.day), before_days=visit.window_before_days,
                          after_days=visit.window_after_days) if visit is not None else None)
    entry = VitalEntry(day=form.day, vital_status=form.vital_status, assessed_on=form.assessed_on,
                       last_contact_date=form.last_contact_date)
    return vital_status_problems(entry, protocol=protocol, window=window, today=timezone.localdate(),
                                 death_recorded=_death_recorded(form.participant_id))


def validate_infection(form: NewInfection) -> dict[str, str]:
    day = day_of_date(form.participant, form.onset_date) if form.onset_date else None
    return infection_problems(onset_date=form.onset_date, onset_day=day, today=timezone.localdate(),
                              protocol=current_protocol())


def derive_infection(form: NewInfection) -> None:
    form.study_day = day_of_date(form.participant, form.onset_date) if form.onset_date else None


def validate_end_of_study(form: EndOfStudy) -> dict[str, str]:
    day = day_of_date(form.participant, form.disposition_date) if form.disposition_date else None
    return end_of_study_problems(disposition=form.disposition, disposition_date=form.disposition_date,
                                 disposition_day=day, today=timezone.localdate(), protocol=current_protocol(),
                                 death_recorded=_death_recorded(form.participant_id))
