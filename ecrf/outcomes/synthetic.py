"""Demo outcomes: deaths, vital status on days 28 and 90, new infections, end of study."""

from __future__ import annotations

import datetime as dt
from typing import Any


from ecrf.core.synthetic import register_step
from ecrf.crf.bulk import enter, entered_at
from ecrf.outcomes.specs import DEATH, END_OF_STUDY, NEW_INFECTION, VITAL_STATUS
from ecrf.schedule.days import date_of_day
from ecrf.sofa.services import endpoints_rederive
from ecrf.schedule.synthetic_plan import coordinator_for, plan, randomized_participants, today_for

CAUSES = ["Refractory septic shock", "Multi-organ failure", "ARDS", "Cardiac arrest"]


def generate(ctx: Any) -> None:
    fates = plan(ctx)
    counts = {"deaths": 0, "vital": 0, "infections": 0, "eos": 0}
    participants = randomized_participants(ctx)
    if ctx.bulk:
        # The vital status and end-of-study rules read the recorded death: at scale the deaths
        # go in first, in one insert.
        for p in participants:
            died_at = fates.get(p.pk, {}).get("died_at")
            if died_at:
                enter(ctx, DEATH, p, actor=coordinator_for(ctx, p), at=entered_at(died_at + dt.timedelta(hours=2)),
                      data={"died_at": died_at, "cause": ctx.rng.choice(CAUSES)})
                counts["deaths"] += 1
        ctx.writer.flush()
    for k, p in enumerate(participants, start=1):
        actor = coordinator_for(ctx, p)
        fate = fates.get(p.pk, {})
        today = today_for(p)
        died_at = fate.get("died_at")
        if died_at and not ctx.bulk:
            enter(ctx, DEATH, p, actor=actor, data={"died_at": died_at, "cause": ctx.rng.choice(CAUSES)})
            counts["deaths"] += 1
        if ctx.rng.random() < 0.15:
            onset = date_of_day(p, ctx.rng.randint(3, 20))
            if onset <= today and (not died_at or onset <= died_at.date()):
                enter(ctx, NEW_INFECTION, p, actor=actor, data={
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
            enter(ctx, VITAL_STATUS, p, actor=actor, data=data)
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
            enter(ctx, END_OF_STUDY, p, actor=actor, data=eos)
            counts["eos"] += 1
        if ctx.bulk and k % 500 == 0:
            ctx.progress("outcomes", k, len(participants))
    if ctx.bulk:
        # What a save's listeners schedule after each SOFA day, dose and death: the endpoints,
        # here re-derived once for everyone (each change with its chained history row).
        ctx.writer.flush()
        report = endpoints_rederive(participant_ids=[p.pk for p in participants], reason="Derived after bulk entry")
        ctx.say(f"endpoints derived for {report.participants} participants.")
    ctx.say(f"{counts['deaths']} deaths, {counts['vital']} vital status forms, {counts['infections']} new infections, "
            f"{counts['eos']} end-of-study records.")


register_step(generate, order=90, bulk=generate)
