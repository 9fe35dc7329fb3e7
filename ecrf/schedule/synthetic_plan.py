"""The synthetic trial's fate per randomized participant, shared by the dosing, labs,
medications, outcomes and deviations steps of ``generate_trial`` (ecrf.crf.synthetic)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.crf.models import Participant


def randomized_participants(ctx: Any) -> list[Participant]:
    found = list(Participant.objects.filter(randomized_at__isnull=False).select_related("site").order_by("pk"))
    if found or not ctx.sites:
        return found
    # No randomization step ran (issue 4 not merged): randomize stand-ins so the casebook has data.
    from ecrf.crf.services import participant_create, participant_mark_randomized

    now = timezone.now()
    for n in range(ctx.participants):
        site = ctx.sites[n % len(ctx.sites)]
        actor = ctx.site_users.get((site.code, Role.COORDINATOR))
        p = participant_create(actor=actor, site=site, screening_number=f"{site.code}-SYN{n + 1:04d}")
        when = now - dt.timedelta(days=ctx.rng.randint(1, 120), hours=ctx.rng.randint(0, 23))
        participant_mark_randomized(participant=p, subject_id=f"{site.code}-{n + 1:04d}", randomized_at=when, actor=actor)
    ctx.say("no randomization step: randomized stand-in participants without allocation slots")
    return list(Participant.objects.filter(randomized_at__isnull=False).select_related("site").order_by("pk"))


def plan(ctx: Any) -> dict[int, dict]:
    """participant id -> {"died_at": dt | None, "stop": "treatment"|"everything"|None, "stop_day": int, "lost": bool}."""
    if "fates" in ctx.data:
        return ctx.data["fates"]
    fates: dict[int, dict] = {}
    for p in randomized_participants(ctx):
        r = ctx.rng.random()
        fate: dict = {"died_at": None, "stop": None, "stop_day": None, "lost": False}
        if r < 0.2:
            fate["died_at"] = p.randomized_at + dt.timedelta(days=ctx.rng.randint(2, 40), hours=ctx.rng.randint(0, 20))
        elif r < 0.27:
            fate["stop"], fate["stop_day"] = "treatment", ctx.rng.randint(3, 10)
        elif r < 0.31:
            fate["stop"], fate["stop_day"] = "everything", ctx.rng.randint(3, 10)
        elif r < 0.34:
            fate["lost"] = True
        if fate["died_at"] and fate["died_at"] > timezone.now():
            fate["died_at"] = None
        fates[p.pk] = fate
    ctx.data["fates"] = fates
    return fates


def coordinator_for(ctx: Any, participant: Participant) -> Any:
    return ctx.site_users.get((participant.site.code, Role.COORDINATOR)) or ctx.site_users.get((participant.site.code, Role.INVESTIGATOR))
