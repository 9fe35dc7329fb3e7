from __future__ import annotations

import datetime as dt
from typing import Any

from ecrf.core.synthetic import register_step
from ecrf.crf.bulk import enter
from ecrf.medications.specs import CONMED
from ecrf.schedule.days import date_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, has_come, not_in_future, randomized_participants

DRUGS = [
    {"drug": "Meropenem", "indication": "Pneumonia", "dose": "1", "dose_unit": "g", "route": "iv", "is_antimicrobial": True},
    {"drug": "Norepinephrine", "indication": "Septic shock", "dose": "0.1", "dose_unit": "ug/kg/min", "route": "iv", "is_vasopressor": True},
    {"drug": "Hydrocortisone", "indication": "Septic shock", "dose": "50", "dose_unit": "mg", "route": "iv",
     "is_corticosteroid": True, "hydrocortisone_mg_per_day": "200"},
    {"drug": "Enoxaparin", "indication": "Thromboprophylaxis", "dose": "40", "dose_unit": "mg", "route": "sc"},
]


def generate(ctx: Any) -> None:
    made = 0
    for p in randomized_participants(ctx):
        for drug in ctx.rng.sample(DRUGS, ctx.rng.randint(1, 3)):
            start = not_in_future(date_of_day(p, ctx.rng.randint(0, 3)), p)
            stop = start + dt.timedelta(days=ctx.rng.randint(3, 12))
            # A stop date still to come means the medication is ongoing: no stop date yet.
            enter(ctx, CONMED, p, actor=coordinator_for(ctx, p),
                  data={**drug, "started_on": start, "stopped_on": stop if has_come(stop, p) else None})
            made += 1
    ctx.say(f"{made} concomitant medications.")


register_step(generate, order=70, bulk=generate)
