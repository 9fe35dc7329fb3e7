"""System rules of the administration log that are not a form write: the missed-dose deviation.

A scheduled dose is *missed* when it is recorded as not given for a reason that
is not the expected consequence of death or discontinuation (``specs._after_administration``),
or when nothing at all is recorded for it long after it was due (``missed_dose_sweep``, run by
the beat every 15 minutes). Both raise through ``missed_dose_raise`` with one rule key per
participant, route and dose number, so the two never duplicate and either may come first.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from ecrf.core.errors import DomainError
from ecrf.crf.models import Participant
from ecrf.deviations.models import Deviation, DeviationCategory
from ecrf.deviations.services import deviation_raise_system
from ecrf.dosing.rules import ROUTE_LABEL
from ecrf.schedule.engine import State
from ecrf.schedule.selectors import build_schedules
from ecrf.study.services import current_protocol

logger = logging.getLogger(__name__)


ADMINISTRATION_KEY = "dosing.administration"


def missed_dose_rule(route: str, dose_number: int) -> str:
    """The deviation rule key of one scheduled dose (one deviation per participant and key)."""
    return f"missed_dose:{route}:{dose_number}"


def missed_dose_raise(*, participant: Participant, route: str, dose_number: int, due: dt.datetime,
                      description: str) -> Deviation:
    local = timezone.localtime(due, timezone=ZoneInfo(participant.site.time_zone))
    return deviation_raise_system(participant=participant, rule_code=missed_dose_rule(route, dose_number),
                                  category=DeviationCategory.MISSED_DOSE, description=description,
                                  occurred_on=local.date())


# Participants whose schedules the sweep builds together (memory stays bounded at any size).
SWEEP_CHUNK = 500


@dataclass
class SweepReport:
    participants: int = 0
    raised: int = 0
    skipped_locked: int = 0


def overdue_unrecorded_doses(schedule: Any) -> list[Any]:
    """The administration slots of a built schedule that are still expected, have no record and
    are past their grace period (``State.OVERDUE``).

    Before any dose is given the schedule runs, tentatively, from randomization, and dose n's
    time depends on when dose 1 is actually given: then only dose 1 of each route counts."""
    anchored = schedule.context.first_dose_at is not None
    return [f for f in schedule.forms
            if f.slot.key == ADMINISTRATION_KEY and f.entry is None and f.expected and f.state == State.OVERDUE
            and (anchored or dict(f.slot.match).get("dose_number") == 1)]


def missed_dose_sweep(*, now: dt.datetime | None = None, lookback_days: int | None = None,
                      participant_ids: list[int] | None = None) -> SweepReport:
    """Raise the missed-dose deviation for each scheduled administration overdue beyond the
    grace period (``Protocol.administration_entry_grace_hours``) with no record. Idempotent.

    Doses no longer expected (after death, withdrawal from treatment or from the study, or
    permanent discontinuation of that route) are never raised: the schedule engine decides.
    Only participants randomized within ``lookback_days`` (default: treatment days + 15) are
    swept: the dose schedule ends 15 x 24 h after the first dose, and earlier runs have seen the
    older ones. A frozen or locked participant is skipped (and picked up once unlocked).
    """
    now = now or timezone.now()
    protocol = current_protocol()
    days = lookback_days if lookback_days is not None else protocol.treatment_days + 15
    participants = (Participant.objects.filter(randomized_at__isnull=False, randomized_at__lte=now,
                                               randomized_at__gte=now - dt.timedelta(days=days))
                    .select_related("site").order_by("pk"))
    if participant_ids is not None:
        participants = participants.filter(pk__in=participant_ids)
    report = SweepReport()
    grace = protocol.administration_entry_grace_hours
    swept = list(participants)
    # The schedules of a chunk at a fixed number of queries (``build_schedules``), and the
    # deviations already raised for them in one more: the sweep's queries grow with the number
    # of chunks and of doses raised, not of participants.
    for start in range(0, len(swept), SWEEP_CHUNK):
        chunk = swept[start:start + SWEEP_CHUNK]
        schedules = build_schedules(chunk, now=now, overlays=False)
        report.participants += len(chunk)
        missing = {p.pk: found for p in chunk if (found := overdue_unrecorded_doses(schedules[p.pk]))}
        already: dict[int, set[str]] = {pid: set() for pid in missing}
        for pid, code in (Deviation.objects.filter(participant_id__in=list(missing), rule_code__startswith="missed_dose:")
                          .values_list("participant_id", "rule_code")):
            already[pid].add(code)
        for participant in chunk:
            for form in missing.get(participant.pk, ()):
                match = dict(form.slot.match)
                route, number = match["route"], match["dose_number"]
                if missed_dose_rule(route, number) in already[participant.pk]:
                    continue
                local_due = timezone.localtime(form.slot.opens_at, timezone=ZoneInfo(participant.site.time_zone))
                description = (f"{ROUTE_LABEL[route]} dose {number}, due {local_due:%Y-%m-%d %H:%M %Z}, "
                               f"has no administration record {grace} h after it was due.")
                try:
                    missed_dose_raise(participant=participant, route=route, dose_number=number,
                                      due=form.slot.opens_at, description=description)
                except DomainError as exc:  # frozen or locked: nothing can be written now
                    logger.info("missed-dose sweep skipped participant %s: %s", participant.pk, exc)
                    report.skipped_locked += 1
                    break
                report.raised += 1
    return report
