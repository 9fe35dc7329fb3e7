"""The synthetic trial's fate per randomized participant, shared by the dosing, labs,
medications, outcomes and deviations steps of ``generate_trial`` (ecrf.core.synthetic)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.crf.models import Participant


def randomized_participants(ctx: Any) -> list[Participant]:
    """The participants the randomization step randomized (through its service, with a slot)."""
    return list(Participant.objects.filter(randomized_at__isnull=False).select_related("site").order_by("pk"))


def today_for(participant: Participant | None = None) -> dt.date:
    """The latest date the generator may enter for ``participant``: today both on the server's
    clock (the forms' "not in the future" rules compare with ``timezone.localdate()``) and at the
    participant's site (the edit checks judge a date "in the future at the site"). Near midnight
    UTC the two differ by a day, one way or the other depending on the site's zone."""
    today = timezone.localdate()
    if participant is None:
        return today
    return min(today, timezone.localtime(timezone.now(), ZoneInfo(participant.site.time_zone)).date())


def not_in_future(value: dt.date, participant: Participant | None = None) -> dt.date:
    """``value``, or today if it lies ahead: the generator randomizes its last participants within
    hours of now, so "day 3" of one of them may not have come yet, and date fields refuse the
    future ("The start date cannot be in the future")."""
    return min(value, today_for(participant))


def has_come(value: dt.date, participant: Participant | None = None) -> bool:
    return value <= today_for(participant)


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
