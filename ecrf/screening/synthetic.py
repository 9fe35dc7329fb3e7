"""Demo data: screen patients through the services, with realistic lab distributions and
screen-failure reasons (ImmunoSep screened 672 for 281 randomized, about 2.4 per randomized).

The trial is simulated over the past months: each patient's entries are made with the clock set
to their own time (``simulated_now``), so the services' "not in the future" rules hold and later
steps (randomization, dosing, SOFA days...) find participants randomized days or weeks ago.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator
from typing import Any
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.models import Participant
from ecrf.core.validation import full_clean_or_400
from ecrf.crf.services import form_create
from ecrf.core.synthetic import SyntheticContext, register_step
from ecrf.screening.models import EXCLUSION_COLUMNS
from ecrf.screening.specs import CENTRAL_LAB, CONSENT, SCREENING
from ecrf.screening.models import Screening
from ecrf.screening.services import screening_register

SCREENED_PER_RANDOMIZED = 2.4
TRIAL_DAYS = 150


@contextlib.contextmanager
def simulated_now(when: dt.datetime) -> Iterator[None]:
    """The services' clock, set to ``when`` (never later than the real now)."""
    real = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=min(when, real)):
        yield


def _lab_values(rng) -> tuple[Decimal, int]:
    # Log-normal ferritin (median ~1,500 ng/mL; about a fifth above 4420: MALS) and HLA-DR
    # (median ~4,800 receptors/cell; about half below 5000: immunoparalysis).
    ferritin = Decimal(str(round(math.exp(rng.gauss(math.log(1500), 1.3)), 1)))
    hla_dr = int(math.exp(rng.gauss(math.log(4800), 0.8)))
    return min(ferritin, Decimal(150000)), min(hla_dr, 90000)


def _draw_patient(rng, *, sepsis3_at: dt.datetime, now: dt.datetime) -> dict:
    """One screened patient's entries: the screening form, the consent and (unless refused) the
    central-lab result, with their times (never after ``now``)."""
    roll = rng.random()
    data = {
        "sepsis3_at": sepsis3_at, "sex": rng.choice(["female", "male"]),
        "admission_route": rng.choice(["emergency_department", "emergency_department", "hospitalised"]),
        "sofa_score_or_rise": rng.randint(2, 14), "age": rng.randint(24, 92),
        "infection_source": rng.choice(["CAP", "CAP", "CAP", "HAP", "VAP", "BSI"]),
        "covid19": rng.random() < 0.08, "neutrophils_per_mm3": rng.randint(3000, 22000),
        "corticosteroid_mg_per_day": Decimal(0), **{c: False for c in EXCLUSION_COLUMNS.values()},
    }
    # Screen failures other than the phenotype (the most common one comes from the lab).
    if roll < 0.04:
        data["infection_source"] = "other"
    elif roll < 0.07:
        data["excl_stage_iv_malignancy"] = True
    elif roll < 0.10:
        data["excl_dnr"] = True
    elif roll < 0.12:
        data["neutrophils_per_mm3"] = rng.randint(200, 900)
    elif roll < 0.14:
        data["corticosteroid_mg_per_day"] = Decimal(rng.choice([300, 400]))
    elif roll < 0.15:
        data["age"] = 17
    representative = rng.random() < 0.55
    refused = rng.random() < 0.05
    consent_at = sepsis3_at + dt.timedelta(minutes=rng.randint(50, 180))
    consent = {"consent_by": "representative" if representative else "patient",
               "representative_relation": rng.choice(["spouse", "child", "sibling", "parent"]) if representative else "",
               "decision": "refused" if refused else "given", "form_version": "v2.0", "consented_at": consent_at}
    lab = lab_at = None
    if not refused:
        ferritin, hla_dr = _lab_values(rng)
        sampled = consent_at + dt.timedelta(minutes=rng.randint(10, 60))
        resulted = sampled + dt.timedelta(hours=rng.uniform(2, 6))
        # The newest patients are screened within hours of now: their sample and result
        # can't lie ahead of the real clock (the lab form refuses the future).
        if resulted > now:
            resulted = now
            sampled = max(consent_at, min(sampled, resulted - dt.timedelta(minutes=30)))
        lab = {"ferritin": ferritin, "ferritin_sampled_at": sampled, "ferritin_resulted_at": resulted,
               "hla_dr": hla_dr, "hla_dr_sampled_at": sampled, "hla_dr_resulted_at": resulted}
        lab_at = resulted + dt.timedelta(minutes=10)
    return {"data": data, "consent": consent, "consent_at": consent_at + dt.timedelta(minutes=5), "lab": lab,
            "lab_at": lab_at, "representative": representative, "sepsis3_at": sepsis3_at,
            "entered_at": sepsis3_at + dt.timedelta(minutes=40)}


def _patients(ctx: SyntheticContext, existing: int) -> Iterator[tuple[int, Any, Any, str, dict]]:
    """(index, site, coordinator, screening number, drawn entries) of the patients to screen, in
    order; the caller stops drawing once enough are eligible."""
    rng = ctx.rng
    target = max(0, round(ctx.participants * SCREENED_PER_RANDOMIZED))
    now = timezone.now()
    start = now - dt.timedelta(days=TRIAL_DAYS)
    i = -1
    while i + 1 < max(target, 1) * 5:
        i += 1
        site = ctx.sites[i % len(ctx.sites)]
        coordinator = ctx.site_users[(site.code, Role.COORDINATOR)]
        # Spread over the trial; the most recent ones within the last day (still randomizable).
        sepsis3_at = start + dt.timedelta(days=(TRIAL_DAYS - 1) * i / max(target, 1), hours=rng.uniform(0, 20))
        if i >= target - 2 or sepsis3_at > now - dt.timedelta(hours=3):
            sepsis3_at = now - dt.timedelta(hours=rng.uniform(3, 20))
        yield i, site, coordinator, f"{site.code}-S{existing + i + 1:04d}", _draw_patient(rng, sepsis3_at=sepsis3_at, now=now)


def _enough(ctx: SyntheticContext, index: int, eligible: int) -> bool:
    """At least the published ratio, and on until enough are eligible (at most five per randomized)."""
    return index + 1 >= round(ctx.participants * SCREENED_PER_RANDOMIZED) and eligible >= ctx.participants


def generate(ctx: SyntheticContext) -> None:
    lab_user = ctx.users[Role.LAB]
    screened: list[dict] = []
    eligible_count = 0
    for i, site, coordinator, number, drawn in _patients(ctx, Participant.objects.count()):
        if i > 0 and _enough(ctx, i - 1, eligible_count):
            break
        try:
            with simulated_now(drawn["entered_at"]):
                form = screening_register(actor=coordinator, site=site, screening_number=number, data=drawn["data"], submit=True)
            participant = form.participant
            with simulated_now(drawn["consent_at"]):
                form_create(actor=coordinator, spec=CONSENT, participant=participant, submit=True, data=drawn["consent"])
            if drawn["lab"] is not None:
                with simulated_now(drawn["lab_at"]):
                    form_create(actor=lab_user, spec=CENTRAL_LAB, participant=participant, submit=True, data=drawn["lab"])
            screened.append({"participant": participant, "sepsis3_at": drawn["sepsis3_at"],
                             "representative": drawn["representative"]})
            participant.refresh_from_db()
            eligible_count += participant.screening_screening_set.filter(eligibility="eligible").exists()
        except DomainError as exc:  # a demo row the rules refuse is reported, not hidden
            ctx.say(f"screening {number} refused: {exc.message}")
    ctx.data["screened"] = screened
    _report(ctx, [s["participant"] for s in screened])


def _report(ctx: SyntheticContext, participants: list[Any]) -> None:
    outcomes = Screening.objects.filter(participant__in=participants)
    eligible = outcomes.filter(eligibility="eligible").count()
    ctx.say(f"{len(participants)} patients screened; {eligible} eligible "
            f"({outcomes.filter(phenotype='MALS', eligibility='eligible').count()} MALS), "
            f"{outcomes.filter(eligibility='not_eligible').count()} screen failures.")


def generate_bulk(ctx: SyntheticContext) -> None:
    """The screening log at scale: per chunk of patients, the participants, then their consents,
    central-lab results and screening forms, each table in one insert. Each form goes through
    its spec's own hooks as in ``form_create``, in the services' order (the consent before the
    lab result, which checks it; the screening outcome derived from both)."""
    w = ctx.writer
    lab_user = ctx.users[Role.LAB]
    screened: list[dict] = []
    eligible = 0
    total = max(1, round(ctx.participants * SCREENED_PER_RANDOMIZED))
    patients = _patients(ctx, Participant.objects.count())
    last = -1
    while not (last >= 0 and _enough(ctx, last, eligible)):
        chunk = []
        for i, site, coordinator, number, drawn in patients:
            chunk.append((site, coordinator, number, drawn))
            last = i
            if len(chunk) >= 2000 or _enough(ctx, i, eligible + len(chunk)):
                break
        if not chunk:
            break
        people = []
        for site, coordinator, number, drawn in chunk:
            p = Participant(site=site, screening_number=number, created_by=coordinator, created_at=drawn["entered_at"])
            full_clean_or_400(p, exclude=["created_by"])
            people.append(w.add(p, actor=coordinator, at=drawn["entered_at"], reason="Entered in the screening log"))
        w.flush(Participant)
        consents = [w.form(CONSENT, p, drawn["consent"], actor=coordinator, at=drawn["consent_at"])
                    for p, (_site, coordinator, _number, drawn) in zip(people, chunk, strict=True)]
        w.flush()
        for p, (_site, _coordinator, _number, drawn) in zip(people, chunk, strict=True):
            if drawn["lab"] is not None:
                w.form(CENTRAL_LAB, p, drawn["lab"], actor=lab_user, at=drawn["lab_at"])
        w.flush()
        for p, consent, (_site, coordinator, _number, drawn) in zip(people, consents, chunk, strict=True):
            form = w.form(SCREENING, p, drawn["data"], actor=coordinator, at=drawn["entered_at"])
            eligible += form.eligibility == "eligible"
            screened.append({"participant": p, "sepsis3_at": drawn["sepsis3_at"], "representative": drawn["representative"],
                             "screening": form, "consent": consent})
        w.flush()
        ctx.progress("screening", min(len(screened), total), total)
    ctx.data["screened"] = screened
    _report(ctx, [s["participant"] for s in screened])


register_step(generate, order=20, bulk=generate_bulk)
