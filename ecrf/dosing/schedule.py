"""The dosing app's place in the schedule: each treatment day's IV and SC dose slots.

ARCHITECTURE.md "Time": doses run on elapsed time from the first dose (normally right after
randomization, so before any dose is given the schedule runs from randomization); pages group
them by the study day (site zone) in which they fall.
"""

from __future__ import annotations

import datetime as dt

from ecrf.crf.registry import FormSpec
from ecrf.schedule import timeline
from ecrf.schedule.engine import ScheduleContext, Slot
from ecrf.study.visits import VisitDef

ROUTES = (("iv", "IV study drug"), ("sc", "SC study drug"))


def dose_times(ctx: ScheduleContext) -> dict[str, list[dt.datetime]]:
    anchor = ctx.first_dose_at or ctx.participant.randomized_at
    return {"iv": timeline.iv_due_times(anchor, protocol=ctx.protocol),
            "sc": timeline.sc_due_times(anchor, protocol=ctx.protocol)}


def administration_slots(ctx: ScheduleContext, visit: VisitDef, spec: FormSpec) -> list[Slot]:
    """The dose slots that fall on ``visit``'s study day. Every dose's day is worked out once per
    schedule (``ctx.memo``), not once per treatment day, so a schedule costs one pass over the
    doses whatever the number of days."""
    memo_key = f"dosing.administration_slots:{spec.key}"
    by_day = ctx.memo.get(memo_key)
    if by_day is None:
        by_day = ctx.memo[memo_key] = _slots_by_day(ctx, spec)
    return list(by_day.get(visit.day, ()))


def _slots_by_day(ctx: ScheduleContext, spec: FormSpec) -> dict[int, list[Slot]]:
    grace = dt.timedelta(hours=ctx.protocol.administration_entry_grace_hours)
    by_day: dict[int, list[Slot]] = {}
    times = dose_times(ctx)
    for route, label in ROUTES:
        for number, due in enumerate(times[route], start=1):
            day = timeline.study_day(due, randomized_at=ctx.participant.randomized_at, tz=ctx.tz)
            by_day.setdefault(day, []).append(
                Slot(key=spec.key, row=f"{spec.key}:{route}", row_label=label, day=day,
                     match=(("route", route), ("dose_number", number)), opens_at=due, closes_at=due + grace,
                     label=f"{label} dose {number}", treatment_route=route))
    return by_day
