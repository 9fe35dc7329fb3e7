"""Synthetic SOFA trajectories for ``generate_trial``: improving, worsening and fatal courses,
with occasional missing components and missing days, entered through the form services (the
same validation, scoring and history as real entry). Plans deaths in ``ctx.data["planned_deaths"]``
(participant id -> study day). Deaths and early stops follow the trial's shared fate plan
(``ecrf.schedule.synthetic_plan.plan``, also used by the dosing and outcomes steps); SOFA forms
stop on the day of death, and no day after today is entered."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ecrf.crf.services import form_create
from ecrf.core.synthetic import SyntheticContext, register_step
from ecrf.crf.bulk import entered_at
from ecrf.sofa import derivation
from ecrf.sofa.scoring import COMPONENTS
from ecrf.sofa.services import endpoints_deferred
from ecrf.sofa.specs import SOFA_DAY
from ecrf.schedule.days import bounds_of_day, date_of_day, day_of_moment
from ecrf.schedule.synthetic_plan import has_come, plan, randomized_participants

D = Decimal
SOFA_DAYS = 15
# Raw values mid-band for each subscore 0..4 (so unit conversion never crosses an edge).
_PF = [(D("95"), D("0.21"), "none"), (D("105"), D("0.30"), "none"), (D("75"), D("0.30"), "non_invasive"),
       (D("75"), D("0.50"), "invasive"), (D("60"), D("0.80"), "invasive")]
_PLATELETS = [D("220"), D("120"), D("75"), D("35"), D("12")]
_BILI_MG = [D("0.7"), D("1.5"), D("3.5"), D("8.0"), D("14.0")]
_BILI_UMOL = [D("12"), D("26"), D("60"), D("137"), D("239")]
_CV = [{"map": D("78")}, {"map": D("65")}, {"map": D("68"), "dobutamine": D("5")},
       {"map": D("70"), "norepinephrine": D("0.08")}, {"map": D("66"), "norepinephrine": D("0.30")}]
_GCS = [15, 14, 11, 8, 5]
_CREAT_MG = [D("0.9"), D("1.5"), D("2.6"), D("4.0"), D("5.6")]
_CREAT_UMOL = [D("80"), D("133"), D("230"), D("354"), D("495")]
_URINE = [D("1500"), D("1200"), D("900"), D("450"), D("150")]


def raw_values(sub: dict[str, int], rng: random.Random, missing: set[str]) -> dict[str, Any]:
    """Bedside values that score exactly ``sub`` (components in ``missing`` left out)."""
    v: dict[str, Any] = {}
    if "respiration" not in missing:
        pao2, fio2, support = _PF[sub["respiration"]]
        if rng.random() < 0.3:
            v.update(pao2=(pao2 / D("7.50062")).quantize(D("0.1")), pao2_unit="kPa")
        else:
            v.update(pao2=pao2, pao2_unit="mmHg")
        v.update(fio2=fio2, respiratory_support=support)
    if "coagulation" not in missing:
        v["platelets"] = _PLATELETS[sub["coagulation"]]
    if "liver" not in missing:
        umol = rng.random() < 0.5
        v.update(bilirubin=(_BILI_UMOL if umol else _BILI_MG)[sub["liver"]], bilirubin_unit="umol/L" if umol else "mg/dL")
    if "cardiovascular" not in missing:
        v.update({"dopamine": D("0"), "dobutamine": D("0"), "epinephrine": D("0"), "norepinephrine": D("0"),
                  **_CV[sub["cardiovascular"]]})
    if "cns" not in missing:
        v.update(gcs=_GCS[sub["cns"]], gcs_sedated=sub["cns"] >= 2 and rng.random() < 0.5)
    if "renal" not in missing:
        umol = rng.random() < 0.6
        v.update(creatinine=(_CREAT_UMOL if umol else _CREAT_MG)[sub["renal"]],
                 creatinine_unit="umol/L" if umol else "mg/dL", urine_output=_URINE[sub["renal"]])
    return v


def trajectory(rng: random.Random, *, dies: bool | None = None) -> tuple[str, list[dict[str, int]], int | None]:
    """(course, daily subscores for days 1..15, study day of death or None)."""
    if dies:
        course = "death"
    else:
        course = rng.choices(["improving", "worsening", "death"], weights=[55, 30, 0 if dies is False else 15])[0]
    sub = {c: rng.choice([0, 1, 1, 2, 2, 3]) for c in COMPONENTS}
    drift = {"improving": -0.35, "worsening": 0.2, "death": 0.4}[course]
    days = []
    for _ in range(SOFA_DAYS):
        days.append(dict(sub))
        for c in COMPONENTS:
            step = drift + rng.uniform(-0.6, 0.6)
            sub[c] = max(0, min(4, sub[c] + (1 if step > 0.5 else -1 if step < -0.5 else 0)))
    death_day = rng.randint(3, 14) if course == "death" else None
    return course, days, death_day


def _plans(ctx: SyntheticContext, participants: list[Any]) -> Iterator[tuple[Any, Any, list[dict[str, Any]]]]:
    """(participant, who enters, each day's raw values in day order) of the SOFA days to enter:
    on the trajectory of the participant's course, up to death, withdrawal or today, with
    occasional missing days and components."""
    rng = ctx.rng
    fates = plan(ctx)
    planned = ctx.data.setdefault("planned_deaths", {})
    courses: dict[str, int] = ctx.data.setdefault("sofa_courses", {})
    for p in participants:
        actor = ctx.site_users.get((p.site.code, "coordinator")) or ctx.site_users.get((p.site.code, "investigator"))
        if actor is None or (not ctx.bulk and p.sofa_sofaday_set.exists()):
            continue
        fate = fates.get(p.pk, {})
        died_at = fate.get("died_at")
        course, days, death_day = trajectory(rng, dies=died_at is not None)
        if died_at is not None:
            death_day = day_of_moment(p, died_at)
        stop_day = fate.get("stop_day") if fate.get("stop") == "everything" else None
        courses[course] = courses.get(course, 0) + 1
        if death_day:
            planned[p.pk] = death_day
        entries = []
        for day, sub in enumerate(days, start=1):
            if (death_day and day >= death_day) or (stop_day and day > stop_day) or not has_come(date_of_day(p, day), p):
                break
            # Occasional missing days (day 1 rarely: those participants are not evaluable).
            if rng.random() < (0.02 if day == 1 else 0.06):
                continue
            missing = {c for c in COMPONENTS if rng.random() < 0.07}
            entries.append({"day": day, **raw_values(sub, rng, missing)})
        yield p, actor, entries


def generate(ctx: SyntheticContext) -> None:
    participants = randomized_participants(ctx)
    if not participants:
        ctx.say("no randomized participants: no SOFA days.")
        return
    forms = 0
    with endpoints_deferred():
        for p, actor, entries in _plans(ctx, participants):
            for data in entries:
                form_create(actor=actor, spec=SOFA_DAY, participant=p, submit=True, data=data)
                forms += 1
    courses = ctx.data["sofa_courses"]
    ctx.say(f"{forms} SOFA days for {sum(courses.values())} participants ({courses}); endpoints derived.")


def generate_bulk(ctx: SyntheticContext) -> None:
    """SOFA days at scale, inserted in batches. A day's score carries missing components forward
    from the participant's last observed day (sofa.md), which a save reads from the database
    (``derivation.previous_score``); here each participant's days are entered in day order and
    each is scored by the same ``derivation.apply_score`` from the previous day's
    ``derivation.stored_score``, exactly as the services' re-scoring of a series does. The
    endpoints are re-derived once the deaths are in (the outcomes step)."""
    participants = randomized_participants(ctx)
    w = ctx.writer
    forms = 0
    for k, (p, actor, entries) in enumerate(_plans(ctx, participants), start=1):
        previous: list[Any] = [None]
        for data in entries:
            form = w.form(SOFA_DAY, p, data, actor=actor, at=entered_at(bounds_of_day(p, data["day"])[1]),
                          derive=lambda f, prev=previous: derivation.apply_score(f, prev[0]))
            previous[0] = derivation.stored_score(form) or previous[0]
            forms += 1
        if k % 500 == 0:
            ctx.progress("sofa", k, len(participants))
    courses = ctx.data.get("sofa_courses", {})
    ctx.say(f"{forms} SOFA days in bulk for {sum(courses.values())} participants ({courses}).")


register_step(generate, order=80, bulk=generate_bulk)
