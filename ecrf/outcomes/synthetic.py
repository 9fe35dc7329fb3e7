"""Demo outcomes: deaths, vital status on days 28 and 90, new infections, end of study."""

from __future__ import annotations

import datetime as dt
from typing import Any


from ecrf.core.synthetic import register_step
from ecrf.crf.services import form_create
from ecrf.outcomes.specs import DEATH, END_OF_STUDY, NEW_INFECTION, VITAL_STATUS
from ecrf.schedule.days import date_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, plan, randomized_participants, today_for

CAUSES = ["Refractory septic shock", "Multi-organ failure", "ARDS", "Cardiac arrest"]


def generate(ctx: Any) -> None:
    fates = plan(ctx)
    counts = {"deaths": 0, "vital": 0, "infections": 0, "eos": 0}
    for p in randomized_participants(ctx):
        actor = coordinator_for(ctx, p)
        fate = fates.get(p.pk, {})
        today = today_for(p)
        died_at = fate.get("died_at")
        if died_at:
            form_create(actor=actor, spec=DEATH, participant=p, submit=True, data={"died_at": died_at, "cause": ctx.rng.choice(CAUSES)})
            counts["deaths"] += 1
        if ctx.rng.random() < 0.15:
            onset = date_of_day(p, ctx.rng.randint(3, 20))
            if onset <= today and (not died_at or onset <= died_at.date()):
                form_create(actor=actor, spec=NEW_INFECTION, participant=p, submit=True, data={
                    "onset_date": onset, "infection_site": ctx.rng.choice(["lung", "blood", "urinary"]),
                    "organism": ctx.rng.choice(["Klebsiella pneumoniae", "Acinetobacter baumannii", ""]), "diagnosed_by": "culture"})
                counts["infections"] += 1
        stopped = fate.get("stop") == "everything"
        for day in (28, 90):
            target = date_of_day(p, day)
            if target > today or stopped or (died_at and died_at.date() <= target):
                continue
            data = {"day": day, "vital_status": "alive", "assessed_on": target}
            if fate.get("lost") and day == 90:
                data = {"day": day, "vital_status": "unknown", "assessed_on": target, "last_contact_date": date_of_day(p, 28)}
            form_create(actor=actor, spec=VITAL_STATUS, participant=p, submit=True, data=data)
            counts["vital"] += 1
        eos = None
        if died_at:
            eos = {"disposition": "died", "disposition_date": died_at.date()}
        elif stopped:
            eos = {"disposition": "withdrew_data_collection", "disposition_date": date_of_day(p, fate["stop_day"])}
        elif date_of_day(p, 90) + dt.timedelta(days=7) <= today:
            eos = ({"disposition": "lost_to_follow_up", "disposition_date": date_of_day(p, 90)} if fate.get("lost")
                   else {"disposition": "completed", "disposition_date": date_of_day(p, 90)})
        if eos and eos["disposition_date"] <= today:
            form_create(actor=actor, spec=END_OF_STUDY, participant=p, submit=True, data=eos)
            counts["eos"] += 1
    ctx.say(f"{counts['deaths']} deaths, {counts['vital']} vital status forms, {counts['infections']} new infections, "
            f"{counts['eos']} end-of-study records.")


register_step(generate, order=90)
