"""Demo data: an allocation list from the recorded seed, then randomization of the eligible,
consented participants through the service (each within hours of Sepsis-3, on the simulated
clock), one patient's later confirmation, and one emergency unblinding."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.core.synthetic import SyntheticContext, register_step
from ecrf.randomization.models import AllocationList, Stratum
from ecrf.randomization.services import (
    all_strata,
    allocation_list_generate,
    participant_randomize,
)
from ecrf.screening.models import Consent, Screening
from ecrf.screening.services import consent_record_patient_decision
from ecrf.screening.synthetic import simulated_now
from ecrf.study.services import current_protocol
from ecrf.randomization.unblinding import participant_emergency_unblind
from ecrf.study.synthetic import DEMO_PASSWORD


def generate(ctx: SyntheticContext) -> None:
    rng = ctx.rng
    statistician = ctx.users[Role.STATISTICIAN]
    missing = [s for s in all_strata(current_protocol()) if not Stratum.objects.filter(key="|".join(s)).exists()]
    if missing:
        allocation_list_generate(actor=statistician, seed=f"demo-{ctx.seed}", slots_per_stratum=max(40, ctx.participants),
                                 strata=missing)
    randomized = []
    for entry in ctx.data.get("screened", []):
        if len(randomized) >= ctx.participants:
            break
        participant = entry["participant"]
        screening = Screening.objects.filter(participant=participant).first()
        if screening is None or screening.eligibility != "eligible":
            continue
        site = participant.site
        actor = ctx.site_users[(site.code, rng.choice([Role.COORDINATOR, Role.INVESTIGATOR]))]
        when = min(entry["sepsis3_at"] + dt.timedelta(hours=rng.uniform(8, 40)), timezone.now())
        try:
            with simulated_now(when):
                participant_randomize(actor=actor, participant=participant)
        except DomainError as exc:
            ctx.say(f"{participant.screening_number} not randomized: {exc.message}")
            continue
        participant.refresh_from_db()
        randomized.append(participant)
        consent = Consent.objects.filter(participant=participant).first()
        if entry["representative"] and rng.random() < 0.6:
            decided = min(when + dt.timedelta(days=rng.randint(2, 10)), timezone.now())
            with simulated_now(decided):
                consent_record_patient_decision(actor=actor, consent=consent, decision="confirmed", decided_at=decided,
                                                version=consent.version, form_version="v2.0")
    ctx.data["randomized"] = randomized
    if len(randomized) >= 10:
        target = randomized[len(randomized) // 2]
        investigator = ctx.site_users[(target.site.code, Role.INVESTIGATOR)]
        participant_emergency_unblind(actor=investigator, participant=target, password=DEMO_PASSWORD,
                                      reason="Suspected severe drug reaction; treating team must know the product")
        ctx.say(f"{target.subject_id} emergency unblinded by {investigator.username}.")
    ctx.say(f"{len(randomized)} participants randomized; {AllocationList.objects.count()} allocation list(s).")


register_step(generate, order=30)
