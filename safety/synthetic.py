"""Demo data: AEs across grades, exempted events, SAEs with clocks in every state, a SUSAR
(all through the services, so validation, derivation, clocks and history are real)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create
from ecrf.core.errors import DomainError
from ecrf.core.synthetic import SyntheticContext, register_step, sampled
from ecrf.outcomes.selectors import death_days
from ecrf.study.synthetic import DEMO_PASSWORD
from safety import links
from safety.meddra import ensure_demo_dictionary
from safety.models import Clock, SAEReport
from safety.services import assessment_record, sae_report_submit, susar_unblind_and_decide
from safety.specs import AE_SPEC

if TYPE_CHECKING:
    from ecrf.accounts.models import User

TERMS = [  # (verbatim, LLT, grade)
    ("Rash on trunk", 94000011, 1), ("Redness at injection site", 94000010, 1), ("ALT increased", 94000013, 2),
    ("Low haemoglobin", 94000002, 2), ("Skin eruption", 94000012, 3), ("Raised liver enzymes", 94000014, 3),
]


def _ae(actor: User, participant: Participant, **data: Any) -> Any:
    return form_create(actor=actor, spec=AE_SPEC, participant=participant, data=data, submit=True)


def generate(ctx: SyntheticContext) -> None:
    ensure_demo_dictionary()
    sites = [s.pk for s in ctx.sites]
    participants = list(Participant.objects.select_related("site").filter(site__in=sites, randomized_at__isnull=False)
                        .order_by("pk")[: max(ctx.participants, 1)])
    # The demo's recent events go to participants who are alive (an AE never starts after death).
    dead = set(death_days([p.pk for p in participants]))
    participants = [p for p in participants if p.pk not in dead] or participants[:0]
    if not participants:
        ctx.say("no participants: no adverse events")
        return
    now = timezone.now()
    rng = ctx.rng
    made = 0

    def staff(p: Participant) -> User:
        return ctx.site_users.get((p.site.code, Role.INVESTIGATOR)) or ctx.users.get(Role.INVESTIGATOR)

    for i, p in enumerate(participants):
        verbatim, llt, grade = TERMS[i % len(TERMS)]
        onset = (now - dt.timedelta(days=rng.randint(3, 20))).date()
        _ae(staff(p), p, verbatim_term=verbatim, llt_code=llt, onset_date=onset, grade=grade, outcome="recovered",
            end_date=onset + dt.timedelta(days=2), aware_at=now - dt.timedelta(days=2), causality_iv="unlikely",
            causality_sc="unlikely", anemia=llt == 94000002, hb_nadir_g_dl="8.1" if llt == 94000002 else None)
        made += 1
    # Exempted serious events (septic shock progression): recorded, exemption visible, no clock.
    for p in participants[:2]:
        _ae(staff(p), p, verbatim_term="Refractory septic shock", llt_code=94000007, onset_date=(now - dt.timedelta(days=4)).date(),
            grade=4, outcome="not_recovered", serious=True, serious_life_threatening=True, aware_at=now - dt.timedelta(days=4),
            causality_iv="unlikely", causality_sc="unlikely")
        made += 1
    # SAEs whose 24-hour clocks are running, due soon, overdue, met and met late.
    serious = {"serious": True, "serious_hospitalisation": True, "grade": 3, "outcome": "recovering", "causality_iv": "possible",
               "causality_sc": "unlikely", "bleeding": True, "bleeding_site": "upper GI", "bleeding_severity": "major"}
    states = [("running", 2), ("due soon", 20), ("overdue", 30), ("met", 40), ("met late", 50)]
    for k, (state, hours_ago) in enumerate(states):
        p = participants[k % len(participants)]
        aware = now - dt.timedelta(hours=hours_ago)
        ae = _ae(staff(p), p, verbatim_term="Melaena", llt_code=94000004, onset_date=aware.date(), aware_at=aware, **serious)
        made += 1
        if state.startswith("met"):
            report = SAEReport.objects.get(adverse_event=ae, sequence=0)
            sent = aware + dt.timedelta(hours=5 if state == "met" else 30)
            sae_report_submit(actor=staff(p), report=report, version=report.version, submitted_at=sent,
                              recipient="Sponsor safety desk", reference=f"SPN-{ae.pk:04d}")
    # A SUSAR: assessed (blinded) against the participant's real phenotype, then unblinded and
    # decided by pharmacovigilance through the real single-case unblinding.
    p = participants[-1]
    officer = ctx.users.get(Role.SAFETY_OFFICER)
    pv = ctx.users.get(Role.PHARMACOVIGILANCE)
    aware = now - dt.timedelta(days=3)
    ae = _ae(staff(p), p, verbatim_term="Bleeding from line site", llt_code=94000005, onset_date=aware.date(), aware_at=aware,
             **{**serious, "bleeding_site": "central line", "causality_sc": "possible"})
    made += 1
    if links.possible_product(p) is None:
        ctx.say(f"{made} adverse events; {Clock.objects.count()} clocks; no SUSAR (phenotype unknown)")
        return
    case = assessment_record(actor=officer, ae=ae, expected=False, rsi_reference="Investigator's brochure (demo) v1",
                             sponsor_aware_at=aware + dt.timedelta(hours=6))
    try:
        susar_unblind_and_decide(actor=pv, assessment=case, reason="Demo: potential SUSAR", password=DEMO_PASSWORD)
    except DomainError as exc:  # e.g. the demo's pharmacovigilance user has another password
        ctx.say(f"SUSAR left open as a potential SUSAR ({exc.message})")
    ctx.say(f"{made} adverse events; {Clock.objects.count()} clocks; 1 SUSAR")


register_step(generate, order=110, bulk=lambda ctx: generate(sampled(ctx)))
