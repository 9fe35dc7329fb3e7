from __future__ import annotations

from typing import Any

from ecrf.core.synthetic import register_step
from ecrf.crf.bulk import enter
from ecrf.deviations.specs import DEVIATION
from ecrf.schedule.days import date_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, has_come, randomized_participants


def generate(ctx: Any) -> None:
    made = 0
    for p in randomized_participants(ctx):
        # A day-3 deviation only for a participant whose day 3 has come (the newest may be on day 1).
        if ctx.rng.random() < 0.1 and has_come(date_of_day(p, 3), p):
            enter(ctx, DEVIATION, p, actor=coordinator_for(ctx, p), data={
                "category": "assessment", "description": "Day-3 blood sample taken outside the window.",
                "occurred_on": date_of_day(p, 3), "found_by": "site", "impact": "minor",
                "corrective_action": "Staff reminded of the sampling schedule."})
            made += 1
    ctx.say(f"{made} deviations raised by site staff (system deviations come from the dosing step).")


register_step(generate, order=100, bulk=generate)
