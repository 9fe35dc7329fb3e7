"""Demo administrations: every scheduled dose up to now, death or withdrawal, with occasional
missed doses and permanent discontinuations. A participant who stops (the plan's "treatment" or
"everything") withdraws consent of that type through the screening service, where a consent
exists, and has both routes discontinued on that day."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ecrf.core.errors import DomainError
from ecrf.core.synthetic import register_step
from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.schedule import timeline
from ecrf.schedule.days import date_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, has_come, plan, randomized_participants
from ecrf.study.services import current_protocol
from ecrf.screening.selectors import consent_for
from ecrf.screening.services import consent_withdraw

if TYPE_CHECKING:
    from ecrf.accounts.models import User


def generate(ctx: Any) -> None:
    fates = plan(ctx)
    protocol = current_protocol()
    now = timezone.now()
    doses = missed = withdrawals = 0
    for p in randomized_participants(ctx):
        actor = coordinator_for(ctx, p)
        fate = fates.get(p.pk, {})
        first = p.randomized_at + dt.timedelta(minutes=ctx.rng.randint(10, 90))
        stop_at = now
        if fate.get("died_at"):
            stop_at = min(stop_at, fate["died_at"])
        if fate.get("stop") and has_come(date_of_day(p, fate["stop_day"]), p):
            stop_day = fate["stop_day"]
            withdrawals += _withdraw_consent(actor, p, fate["stop"], date_of_day(p, stop_day))
            form_create(actor=actor, spec=DISCONTINUATION, participant=p, submit=True,
                        data={"route": "both", "discontinued_on": date_of_day(p, stop_day), "discontinuation_reason": "participant_request"})
            stop_at = min(stop_at, timeline.day_bounds(stop_day, randomized_at=p.randomized_at, tz=p.site.time_zone)[1])
        for route, times in (("iv", timeline.iv_due_times(first, protocol=protocol)), ("sc", timeline.sc_due_times(first, protocol=protocol))):
            for n, due in enumerate(times, start=1):
                if due >= stop_at:
                    break
                if n > 1 and ctx.rng.random() < 0.03:
                    data = {"route": route, "dose_number": n, "given": False,
                            "reason_not_given": ctx.rng.choice(["clinical_decision", "preparation_unavailable"])}
                    missed += 1
                else:
                    started = due + dt.timedelta(minutes=ctx.rng.randint(0, 40)) if n > 1 else first
                    if started >= stop_at:
                        break
                    data = {"route": route, "dose_number": n, "given": True, "started_at": started,
                            "duration_minutes": 30 if route == "iv" else 1, "volume_ml": "20" if route == "iv" else "0.5"}
                form_create(actor=actor, spec=ADMINISTRATION, participant=p, data=data, submit=True)
                doses += 1
    ctx.say(f"{doses} administrations recorded ({missed} missed doses, each a system deviation); "
            f"{withdrawals} withdrawals of consent.")


def _withdraw_consent(actor: User, participant: Any, stop: str, on: dt.date) -> int:
    consent = consent_for(participant)
    if consent is None or not consent.is_valid_consent or consent.withdrawal_type:
        return 0  # a stand-in participant randomized without screening
    try:
        consent_withdraw(actor=actor, consent=consent, withdrawal_type="treatment" if stop == "treatment" else "data_collection",
                         withdrawn_on=on, version=consent.version, reason="Participant's decision")
    except DomainError:
        return 0
    return 1


register_step(generate, order=50)
