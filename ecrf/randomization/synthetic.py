"""Demo data: an allocation list from the recorded seed, then randomization of the eligible,
consented participants through the service (each within hours of Sepsis-3, on the simulated
clock), one patient's later confirmation, and one emergency unblinding."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.core.synthetic import SyntheticContext, register_step
from ecrf.crf.models import Participant
from ecrf.randomization.models import AllocationList, Assignment, Slot, Stratum, SubjectCounter
from ecrf.randomization.services import (
    _key,
    all_strata,
    allocation_list_generate,
    participant_randomize,
    stratum_of,
)
from ecrf.screening.models import Consent, Eligibility, Screening
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
    _randomized_done(ctx, randomized)


def generate_bulk(ctx: SyntheticContext) -> None:
    """Randomization at scale: each eligible, consented participant takes the next slot of its
    stratum and the next subject number of its site, as ``participant_randomize`` does, with
    the assignment, the participant and the fixed screening outcome each in one insert or
    update with its history row. The randomization service's own refusals (consent, eligibility,
    the Sepsis-3 window) are its rules' (``EligibilityResult``, ``Consent.is_valid_consent``, the
    protocol's window). The pharmacists' notifications are not sent; one emergency unblinding
    goes through the service."""
    rng = ctx.rng
    w = ctx.writer
    protocol = current_protocol()
    statistician = ctx.users[Role.STATISTICIAN]
    missing = [s for s in all_strata(protocol) if not Stratum.objects.filter(key="|".join(s)).exists()]
    if missing:
        allocation_list_generate(actor=statistician, seed=f"demo-{ctx.seed}", slots_per_stratum=max(40, ctx.participants),
                                 strata=missing)
    strata = {s.key: s for s in Stratum.objects.all()}
    slots = {(s.stratum_id, s.sequence): s for s in Slot.objects.filter(assignment__isnull=True)}
    counters = {c.site_id: c for c in SubjectCounter.objects.all()}
    window = dt.timedelta(hours=protocol.sepsis_window_hours)
    now = timezone.now()
    randomized, assigned, fixed, marked = [], [], [], []
    for entry in ctx.data.get("screened", []):
        if len(randomized) >= ctx.participants:
            break
        p, screening, consent = entry["participant"], entry["screening"], entry["consent"]
        if screening.eligibility != Eligibility.ELIGIBLE or not consent.is_valid_consent:
            continue
        actor = ctx.site_users[(p.site.code, rng.choice([Role.COORDINATOR, Role.INVESTIGATOR]))]
        when = min(entry["sepsis3_at"] + dt.timedelta(hours=rng.uniform(8, 40)), now)
        if when - screening.sepsis3_at > window:
            continue
        key = _key(stratum_of(p.site.code, screening.phenotype, protocol.stratification_factors))
        stratum = strata[key]
        slot = slots.get((stratum.pk, stratum.next_sequence))
        if slot is None:
            ctx.say(f"{p.screening_number} not randomized: the allocation list of stratum {key} is used up.")
            continue
        stratum.next_sequence += 1
        counter = counters.get(p.site_id) or counters.setdefault(p.site_id, SubjectCounter.objects.create(site=p.site))
        counter.last_number += 1
        assigned.append(Assignment(participant=p, slot=slot, stratum_key=key, phenotype=screening.phenotype,
                                   assigned_at=when, assigned_by=actor))
        w.add(assigned[-1], actor=actor, at=when, reason="Randomized")
        screening.phenotype_fixed_at = when
        screening.version += 1
        screening.updated_at = when
        screening.updated_by = actor
        fixed.append((screening, actor, when, "Phenotype fixed at randomization"))
        p.subject_id = protocol.subject_id_format.format(site=p.site.code, number=counter.last_number)
        p.randomized_at = when
        p.version += 1
        marked.append((p, actor, when, "Randomized"))
        randomized.append(p)
        ctx.progress("randomization", len(randomized), ctx.participants)
    w.flush(Assignment)
    w.update(Screening, fixed, ["phenotype_fixed_at", "version", "updated_at", "updated_by"])
    w.update(Participant, marked, ["subject_id", "randomized_at", "version"])
    Stratum.objects.bulk_update(strata.values(), ["next_sequence"])
    SubjectCounter.objects.bulk_update(counters.values(), ["last_number"])
    _randomized_done(ctx, randomized)


register_step(generate, order=30, bulk=generate_bulk)


def _randomized_done(ctx: SyntheticContext, randomized: list[Participant]) -> None:
    """What both paths end with: the randomized participants for the later steps, and one
    emergency unblinding in a trial of ten or more (the audited path the demo shows)."""
    ctx.data["randomized"] = randomized
    if len(randomized) >= 10:
        target = randomized[len(randomized) // 2]
        investigator = ctx.site_users[(target.site.code, Role.INVESTIGATOR)]
        participant_emergency_unblind(actor=investigator, participant=target, password=DEMO_PASSWORD,
                                      reason="Suspected severe drug reaction; treating team must know the product")
        ctx.say(f"{target.subject_id} emergency unblinded by {investigator.username}.")
    ctx.say(f"{len(randomized)} participants randomized; {AllocationList.objects.count()} allocation list(s).")
