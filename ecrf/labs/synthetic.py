"""Demo labs on the sampling days up to now (site labs and central-lab ferritin / HLA-DR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.synthetic import register_step
from ecrf.crf.bulk import enter, entered_at
from ecrf.labs.specs import CENTRAL_LAB_SPEC, LAB_PANEL_SPEC
from ecrf.schedule.days import bounds_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, plan, randomized_participants
from ecrf.study.services import current_protocol


def generate(ctx: Any) -> None:
    fates = plan(ctx)
    now = timezone.now()
    lab_user = ctx.users.get(Role.LAB)
    made = 0
    participants = randomized_participants(ctx)
    for k, p in enumerate(participants, start=1):
        fate = fates.get(p.pk, {})
        end = fate.get("died_at") or now
        actor = coordinator_for(ctx, p)
        for day in current_protocol().sampling_days:
            at = bounds_of_day(p, day)[0] + dt.timedelta(hours=7)
            if at >= end or (fate.get("stop") == "everything" and day > fate["stop_day"]):
                break
            hb = Decimal(ctx.rng.randint(78, 140)) / 10
            enter(ctx, LAB_PANEL_SPEC, p, actor=actor, at=entered_at(at), data={
                "day": day, "sample_time": at, "hemoglobin": hb, "hemoglobin_unit": "g/dL", "hemoglobin_low": "12", "hemoglobin_high": "16",
                "white_cells": Decimal(ctx.rng.randint(20, 250)) / 10, "white_cells_unit": "10^9/L",
                "platelets": ctx.rng.randint(40, 400), "platelets_unit": "10^9/L",
                "creatinine": Decimal(ctx.rng.randint(5, 40)) / 10, "creatinine_unit": "mg/dL"})
            if lab_user is not None:
                enter(ctx, CENTRAL_LAB_SPEC, p, actor=lab_user, at=entered_at(at), data={
                    "day": day, "sample_time": at, "ferritin": ctx.rng.randint(200, 9000), "ferritin_unit": "ng/mL",
                    "hla_dr": ctx.rng.randint(2000, 20000)})
            made += 1
        if ctx.bulk and k % 500 == 0:
            ctx.progress("labs", k, len(participants))
    ctx.say(f"{made} sampling days with labs.")


register_step(generate, order=60, bulk=generate)
