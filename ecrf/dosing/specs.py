"""Administration and discontinuation forms, and their place in the schedule.

The administration rules: refused before randomization, after death, after
withdrawal from treatment or permanent discontinuation of that route, after treatment day 15
(15 x 24 h from the first dose), and a second record for one scheduled dose. A first dose more
than 72 h after Sepsis-3 is accepted and raises a protocol deviation; a dose not given for a
reason other than death or discontinuation raises a missed-dose deviation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ecrf.crf.models import EntryStatus
from ecrf.crf.registry import FormSpec, register
from ecrf.dosing.models import (
    Administration,
    Discontinuation,
    DiscontinuationReason,
    NotGivenReason,
    Route,
)
from ecrf.dosing.schedule import administration_slots
from ecrf.dosing.selectors import discontinuations_for, discontinued_on, schedule_anchor
from ecrf.outcomes.selectors import death_for
from ecrf.schedule import adapters, timeline
from ecrf.schedule.days import date_of_day, day_of_date, day_of_moment, site_zone
from ecrf.study.protocol import Protocol
from ecrf.study.services import current_protocol

ROUTE_LABEL = {Route.IV: "IV study drug", Route.SC: "SC study drug"}
# A start time a few minutes ahead of the server clock is a clock difference, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)


def due_times(route: str, anchor: dt.datetime, protocol: Protocol) -> list[dt.datetime]:
    if route == Route.IV:
        return timeline.iv_due_times(anchor, protocol=protocol)
    return timeline.sc_due_times(anchor, protocol=protocol)


def _validate_administration(form: Administration) -> dict[str, str]:
    p = form.participant
    protocol = current_protocol()
    label = ROUTE_LABEL.get(form.route, "study drug")
    if form.given:
        if form.reason_not_given or form.reason_other:
            return {"reason_not_given": "A reason is recorded only for a dose that was not given."}
        missing = [n for n in ("started_at", "duration_minutes", "volume_ml") if getattr(form, n) in (None, "")]
        if missing:
            return {missing[0]: "Required when the dose was given."}
        if form.volume_ml is not None and form.volume_ml <= 0:
            return {"volume_ml": "The volume given must be more than 0 mL."}
    else:
        if not form.reason_not_given:
            return {"reason_not_given": "Give the reason the dose was not given."}
        if form.reason_not_given == NotGivenReason.OTHER and not form.reason_other.strip():
            return {"reason_other": "Describe the other reason."}
        if form.started_at is not None or form.duration_minutes is not None or form.volume_ml is not None:
            return {"started_at": "A dose that was not given has no start time, duration or volume."}
    if form.interrupted and form.interruption_minutes is None:
        return {"interruption_minutes": "Give how long the administration was interrupted."}
    if not form.interrupted and (form.interruption_minutes is not None or form.interruption_notes):
        return {"interrupted": "Tick 'interrupted' to record an interruption."}
    started = form.started_at
    if started is not None:
        if started < p.randomized_at:
            local = timezone.localtime(p.randomized_at, timezone=_zone(p))
            return {"started_at": f"The start time is before randomization ({local:%Y-%m-%d %H:%M %Z}); doses follow randomization."}
        if started > timezone.now() + CLOCK_SKEW:
            return {"started_at": "The start time cannot be in the future."}
    others = schedule_anchor(p, exclude_pk=form.pk)
    candidates = [t for t in (others, started) if t is not None]
    anchor = min(candidates) if candidates else p.randomized_at
    scheduled = due_times(form.route, anchor, protocol)
    if form.dose_number is not None and not 1 <= form.dose_number <= len(scheduled):
        return {"dose_number": f"The {label} has doses 1 to {len(scheduled)} (every "
                               f"{protocol.iv_interval_hours if form.route == Route.IV else protocol.sc_interval_hours} h for "
                               f"{protocol.treatment_days} days from the first dose)."}
    if started is None:
        return {}
    end = timeline.treatment_end(anchor, protocol=protocol)
    if started >= end:
        return {"started_at": f"The start time is after the end of treatment (day {protocol.treatment_days}: "
                              f"{protocol.treatment_days} x 24 h from the first dose)."}
    death = death_for(p)
    if death is not None and started > death.died_at:
        return {"started_at": "The start time is after the participant's recorded death."}
    withdrawal = adapters.withdrawal_for(p)
    if withdrawal is not None and withdrawal.date is not None and timezone.localtime(started, timezone=_zone(p)).date() > withdrawal.date:
        return {"started_at": f"The participant withdrew from study treatment on {withdrawal.date}; no dose is given after it."}
    stopped = discontinued_on(discontinuations_for(p), form.route)
    if stopped is not None and timezone.localtime(started, timezone=_zone(p)).date() > stopped:
        return {"started_at": f"The {label} was permanently discontinued on {stopped}."}
    return {}


def _zone(participant: Any) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(site_zone(participant))


def _derive_administration(form: Administration) -> None:
    form.study_day = day_of_moment(form.participant, form.started_at) if form.started_at else None


def _validate_discontinuation(form: Discontinuation) -> dict[str, str]:
    p = form.participant
    protocol = current_protocol()
    if form.discontinued_on is not None:
        day = day_of_date(p, form.discontinued_on)
        if not 1 <= day <= protocol.treatment_days:
            return {"discontinued_on": f"The date must fall in treatment, day 1 ({date_of_day(p, 1)}) to day "
                                       f"{protocol.treatment_days} ({date_of_day(p, protocol.treatment_days)})."}
        if form.discontinued_on > timezone.localdate():
            return {"discontinued_on": "The date cannot be in the future."}
    if form.discontinuation_reason == DiscontinuationReason.OTHER and not form.reason_other.strip():
        return {"reason_other": "Describe the other reason."}
    clash = Discontinuation.objects.filter(participant_id=p.pk).exclude(status=EntryStatus.RETRACTED).exclude(pk=form.pk)
    routes = {form.route} | ({"iv", "sc", "both"} if form.route == "both" else {"both"})
    if clash.filter(route__in=routes).exists():
        return {"route": "A discontinuation of this study drug is already recorded; edit that one instead."}
    return {}


ADMINISTRATION = register(FormSpec(
    key="dosing.administration",
    model=Administration,
    fields=("route", "dose_number", "given", "reason_not_given", "reason_other", "started_at", "duration_minutes",
            "volume_ml", "interrupted", "interruption_minutes", "interruption_notes"),
    derived_fields=("study_day",),
    slug="administrations",
    label="Administration",
    one_per=("dose_number", "route"),
    requires_randomized=True,
    validate=_validate_administration,
    derive=_derive_administration,
    schedule_slots=administration_slots,
))
DISCONTINUATION = register(FormSpec(
    key="dosing.discontinuation",
    model=Discontinuation,
    fields=("route", "discontinued_on", "discontinuation_reason", "reason_other"),
    slug="discontinuations",
    label="Treatment discontinuation",
    one_per=None,
    requires_randomized=True,
    validate=_validate_discontinuation,
))
