"""Demo data: the site pharmacist records the first day's preparations (IV doses 1-3 every 8 h,
SC dose 1) of every randomized participant, through the service."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.synthetic import SyntheticContext, register_step, sampled
from ecrf.pharmacy.selectors import worklist
from ecrf.pharmacy.services import preparation_record
from ecrf.screening.synthetic import simulated_now


def generate(ctx: SyntheticContext) -> None:
    count = 0
    for participant in ctx.data.get("randomized", [])[: ctx.participants]:
        pharmacist = ctx.site_users[(participant.site.code, Role.PHARMACIST)]
        item = worklist(pharmacist, [participant])[0]
        iv, sc = item.requirements
        plan = [(iv, k, participant.randomized_at + dt.timedelta(hours=8 * (k - 1), minutes=20)) for k in (1, 2, 3)]
        plan.append((sc, 1, participant.randomized_at + dt.timedelta(minutes=25)))
        for req, dose_number, at in plan:
            if dose_number == 1:
                at = min(at, timezone.now())  # the first doses are prepared right after randomization
            if at > timezone.now():
                continue
            with simulated_now(at + dt.timedelta(minutes=2)):
                preparation_record(actor=pharmacist, participant=participant, route=req.route, product=req.product,
                                   lot=f"{req.product[:3].upper()}-{ctx.seed:03d}", prepared_at=at, dose_number=dose_number)
            count += 1
    ctx.say(f"{count} preparations recorded.")


register_step(generate, order=40, bulk=lambda ctx: generate(sampled(ctx)))
