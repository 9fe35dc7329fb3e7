"""Outcome forms. Their place in the schedule is declared in ``ecrf.study.visits``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ecrf.crf.models import EntryStatus
from ecrf.crf.registry import FormSpec, register
from ecrf.dosing.selectors import given_after
from ecrf.outcomes.models import Death, Disposition, EndOfStudy, NewInfection, VitalState, VitalStatus
from ecrf.schedule.days import date_of_day, day_of_date, day_of_moment
from ecrf.study.services import current_protocol
from ecrf.study.visits import visit_for


def _death_recorded(participant_id: int) -> bool:
    return Death.objects.filter(participant_id=participant_id, status=EntryStatus.SUBMITTED).exists()


def _validate_death(form: Death) -> dict[str, str]:
    p = form.participant
    if form.died_at is None:
        return {}
    if form.died_at < p.randomized_at:
        return {"died_at": "The time of death is before randomization; a death before randomization is a screening failure, not an outcome."}
    if form.died_at > timezone.now():
        return {"died_at": "The time of death cannot be in the future."}
    # A dose recorded as given after the time of death and the death cannot both be true: the
    # death is refused, naming the doses to check (the primary endpoint counts SOFA 24 from the
    # day of death, and the mITT population counts doses given).
    later = given_after(p, form.died_at)
    if later:
        first = timezone.localtime(later[0].started_at, timezone=_zone(p))
        doses = ", ".join(f"{a.get_route_display()} dose {a.dose_number}" for a in later[:5])
        more = f" and {len(later) - 5} more" if len(later) > 5 else ""
        return {"died_at": f"{len(later)} administration(s) are recorded as given after this time of death, the first "
                           f"at {first:%Y-%m-%d %H:%M %Z} ({doses}{more}); correct the time of death or those "
                           "administrations first."}
    return {}


def _zone(participant: Any) -> Any:
    from zoneinfo import ZoneInfo

    from ecrf.schedule.days import site_zone

    return ZoneInfo(site_zone(participant))


def _derive_death(form: Death) -> None:
    form.study_day = day_of_moment(form.participant, form.died_at) if form.died_at else None


def _validate_vital(form: VitalStatus) -> dict[str, str]:
    protocol = current_protocol()
    if form.day not in protocol.vital_status_days:
        days = " or ".join(str(d) for d in protocol.vital_status_days)
        return {"day": f"Vital status is recorded on day {days}."}
    visit = visit_for("outcomes.vital_status", form.day, protocol)
    if form.assessed_on is not None and visit is not None:
        target = date_of_day(form.participant, form.day)
        first = target - dt.timedelta(days=visit.window_before_days)
        last = target + dt.timedelta(days=visit.window_after_days)
        if not first <= form.assessed_on <= last:
            return {"assessed_on": f"Day {form.day} vital status is assessed between {first} and {last} (day {form.day} is {target})."}
        if form.assessed_on > timezone.localdate():
            return {"assessed_on": "The assessment date cannot be in the future."}
    if form.vital_status == VitalState.UNKNOWN and form.last_contact_date is None:
        return {"last_contact_date": "Give the last date the participant was known to be alive when the status is unknown."}
    if form.vital_status != VitalState.UNKNOWN and form.last_contact_date is not None:
        return {"last_contact_date": "The last contact date is recorded only when the status is unknown."}
    if form.last_contact_date is not None and form.assessed_on is not None and form.last_contact_date > form.assessed_on:
        return {"last_contact_date": "The last contact date cannot be after the assessment date."}
    if form.vital_status == VitalState.DEAD and not _death_recorded(form.participant_id):
        return {"vital_status": "Record and submit the death form first (date, time and cause of death)."}
    return {}


def _validate_infection(form: NewInfection) -> dict[str, str]:
    if form.onset_date is None:
        return {}
    day = day_of_date(form.participant, form.onset_date)
    last = max(current_protocol().vital_status_days)
    if day < 1:
        return {"onset_date": "A new infection starts after randomization (day 1 or later); earlier infections belong to screening."}
    if day > last:
        return {"onset_date": f"The onset date is after day {last}, the end of follow-up."}
    if form.onset_date > timezone.localdate():
        return {"onset_date": "The onset date cannot be in the future."}
    return {}


def _derive_infection(form: NewInfection) -> None:
    form.study_day = day_of_date(form.participant, form.onset_date) if form.onset_date else None


def _validate_eos(form: EndOfStudy) -> dict[str, str]:
    if form.disposition_date is None:
        return {}
    if day_of_date(form.participant, form.disposition_date) < 1:
        return {"disposition_date": "The end-of-study date cannot be before randomization."}
    if form.disposition_date > timezone.localdate():
        return {"disposition_date": "The end-of-study date cannot be in the future."}
    if form.disposition == Disposition.DIED and not _death_recorded(form.participant_id):
        return {"disposition": "Record and submit the death form first."}
    if form.disposition == Disposition.COMPLETED:
        last_day = max(current_protocol().vital_status_days)
        if day_of_date(form.participant, form.disposition_date) < last_day:
            return {"disposition_date": f"A participant completes the study on day {last_day} or later."}
    return {}


DEATH = register(FormSpec(
    key="outcomes.death", model=Death, fields=("died_at", "cause"), derived_fields=("study_day",),
    slug="deaths", label="Death", one_per=(), requires_randomized=True,
    validate=_validate_death, derive=_derive_death,
))
VITAL_STATUS = register(FormSpec(
    key="outcomes.vital_status", model=VitalStatus, fields=("day", "vital_status", "assessed_on", "last_contact_date"),
    slug="vital-status", label="Vital status", one_per=("day",), requires_randomized=True,
    validate=_validate_vital,
))
NEW_INFECTION = register(FormSpec(
    key="outcomes.new_infection", model=NewInfection,
    fields=("onset_date", "infection_site", "organism", "diagnosed_by"), derived_fields=("study_day",),
    slug="infections", label="New infection", one_per=None, requires_randomized=True,
    validate=_validate_infection, derive=_derive_infection,
))
END_OF_STUDY = register(FormSpec(
    key="outcomes.end_of_study", model=EndOfStudy, fields=("disposition", "disposition_date", "notes"),
    slug="end-of-study", label="End of study", one_per=(), requires_randomized=True,
    validate=_validate_eos,
))
