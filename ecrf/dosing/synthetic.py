"""Demo administrations: every scheduled dose up to now, death or withdrawal, with occasional
missed doses and permanent discontinuations. A participant who stops (the plan's "treatment" or
"everything") withdraws consent of that type through the screening service, where a consent
exists, and has both routes discontinued on that day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from ecrf.core.errors import DomainError
from ecrf.core.synthetic import register_step
from ecrf.crf.bulk import entered_at, history_deferred
from ecrf.crf.listeners import Write, WriteAction
from ecrf.crf.services import form_create
from ecrf.dosing.listeners import administration_written
from ecrf.dosing.hooks import administration_entry
from ecrf.dosing.rules import AdministrationContext, administration_problems
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.schedule import timeline
from ecrf.schedule.days import date_of_day
from ecrf.schedule.synthetic_plan import coordinator_for, has_come, plan, randomized_participants
from ecrf.study.services import current_protocol
from ecrf.screening.models import Screening
from ecrf.screening.selectors import consent_for
from ecrf.screening.services import consent_withdraw

if TYPE_CHECKING:
    from ecrf.accounts.models import User


def _stop(ctx: Any, p: Any, fate: dict, now: dt.datetime) -> tuple[dt.datetime, dt.date | None]:
    """(when the doses stop, the date treatment was withdrawn and both routes discontinued, if it
    has come): a death, a withdrawal or now. The withdrawal and the discontinuation are entered
    here, through the services (one participant in nine, on either path)."""
    actor = coordinator_for(ctx, p)
    stop_at = now
    if fate.get("died_at"):
        stop_at = min(stop_at, fate["died_at"])
    stopped_on = None
    if fate.get("stop") and has_come(date_of_day(p, fate["stop_day"]), p):
        stop_day = fate["stop_day"]
        stopped_on = date_of_day(p, stop_day)
        ctx.data.setdefault("withdrawals", 0)
        ctx.data["withdrawals"] += _withdraw_consent(actor, p, fate["stop"], stopped_on)
        form_create(actor=actor, spec=DISCONTINUATION, participant=p, submit=True,
                    data={"route": "both", "discontinued_on": stopped_on, "discontinuation_reason": "participant_request"})
        stop_at = min(stop_at, timeline.day_bounds(stop_day, randomized_at=p.randomized_at, tz=p.site.time_zone)[1])
    return stop_at, stopped_on


def _doses(ctx: Any, p: Any, protocol: Any, stop_at: dt.datetime) -> Iterator[tuple[dt.datetime, dict]]:
    """(the first dose's time, the entry) of each scheduled dose before ``stop_at``: given, or
    now and then missed with a reason."""
    first = p.randomized_at + dt.timedelta(minutes=ctx.rng.randint(10, 90))
    for route, times in (("iv", timeline.iv_due_times(first, protocol=protocol)), ("sc", timeline.sc_due_times(first, protocol=protocol))):
        for n, due in enumerate(times, start=1):
            if due >= stop_at:
                break
            if n > 1 and ctx.rng.random() < 0.03:
                data = {"route": route, "dose_number": n, "given": False,
                        "reason_not_given": ctx.rng.choice(["clinical_decision", "preparation_unavailable"])}
            else:
                started = due + dt.timedelta(minutes=ctx.rng.randint(0, 40)) if n > 1 else first
                if started >= stop_at:
                    break
                data = {"route": route, "dose_number": n, "given": True, "started_at": started,
                        "duration_minutes": 30 if route == "iv" else 1, "volume_ml": "20" if route == "iv" else "0.5"}
            yield first, data


def generate(ctx: Any) -> None:
    fates = plan(ctx)
    protocol = current_protocol()
    now = timezone.now()
    doses = missed = 0
    for p in randomized_participants(ctx):
        actor = coordinator_for(ctx, p)
        stop_at, _stopped_on = _stop(ctx, p, fates.get(p.pk, {}), now)
        for _first, data in _doses(ctx, p, protocol, stop_at):
            form_create(actor=actor, spec=ADMINISTRATION, participant=p, data=data, submit=True)
            doses += 1
            missed += not data["given"]
    ctx.say(f"{doses} administrations recorded ({missed} missed doses, each a system deviation); "
            f"{ctx.data.get('withdrawals', 0)} withdrawals of consent.")


def generate_bulk(ctx: Any) -> None:
    """The administrations at scale, inserted in batches. Each passes the dosing rules
    (``rules.administration_problems``) with the context the participant's record gives, which
    this step knows as it enters it (the first dose, the death, the withdrawal and
    discontinuation), and the spec's derivation (the study day). Afterwards the dosing listener
    runs, as after a save, for the rows it acts on: the doses not given, and a first dose given
    outside the Sepsis-3 window (``timeline.within_sepsis_window``, the listener's own test)."""
    fates = plan(ctx)
    protocol = current_protocol()
    now = timezone.now()
    w = ctx.writer
    participants = randomized_participants(ctx)
    judged: list[Any] = []
    doses = missed = 0
    sepsis3 = dict(Screening.objects.filter(participant__in=participants).values_list("participant_id", "sepsis3_at"))
    for k, p in enumerate(participants, start=1):
        actor = coordinator_for(ctx, p)
        fate = fates.get(p.pk, {})
        stop_at, stopped_on = _stop(ctx, p, fate, now)
        zone = ZoneInfo(p.site.time_zone)
        for first, data in _doses(ctx, p, protocol, stop_at):
            is_first = data["dose_number"] == 1 and data["route"] == "iv"
            context = AdministrationContext(randomized_at=p.randomized_at, zone=zone, first_other_dose_at=None if is_first else first,
                                            died_at=fate.get("died_at"), treatment_withdrawn_on=stopped_on,
                                            route_discontinued_on=stopped_on)
            form = w.form(ADMINISTRATION, p, data, actor=actor, at=entered_at(data.get("started_at") or first),
                          problems=lambda f, c=context: administration_problems(administration_entry(f), context=c, protocol=protocol, now=now))
            doses += 1
            missed += not data["given"]
            late = (is_first and p.pk in sepsis3
                    and not timeline.within_sepsis_window(sepsis3[p.pk], form.started_at, protocol=protocol))
            if late or not data["given"]:
                judged.append((form, actor))
        if k % 200 == 0 or k == len(participants):
            ctx.progress("dosing", k, len(participants))
    w.flush()
    with history_deferred(w):
        for form, actor in judged:  # the consequences of these saves: the dosing listener itself
            administration_written(Write(key=ADMINISTRATION.key, instance=form, actor=actor, action=WriteAction.SUBMITTED))
    ctx.say(f"{doses} administrations recorded in bulk ({missed} missed doses, each a system deviation); "
            f"{ctx.data.get('withdrawals', 0)} withdrawals of consent.")


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


register_step(generate, order=50, bulk=generate_bulk)
