"""Benchmark: saving a SOFA day with its derivations, and re-deriving the endpoints of
10,000 participants. Targets: save median < 50 ms on PostgreSQL; bulk re-derive < 30 s.

Run against a PostgreSQL you can create databases on (a fresh ``test_<db>`` is created and dropped):
    DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/ecrf python benchmarks/sofa.py [--participants 10000]

"Derivations included": the save runs the SOFA scoring, the re-scoring of later days and, with
Celery tasks executed eagerly on commit, the participant's endpoint derivation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        run(args)
    finally:
        teardown_databases(old, verbosity=0)


def run(args: argparse.Namespace) -> None:
    from ecrf.accounts.roles import Role
    from ecrf.accounts.services import user_create
    from ecrf.celery import app
    from ecrf.crf.models import EntryStatus, Participant
    from ecrf.crf.services import form_create, form_update
    from ecrf.dosing.models import Administration
    from ecrf.outcomes.models import Death
    from ecrf.sofa.models import SofaDay, SofaEndpoint
    from ecrf.sofa.services import endpoints_rederive
    from ecrf.sofa.specs import SOFA_DAY
    from ecrf.sofa.synthetic import raw_values
    from ecrf.study.models import Site, Study

    app.conf.task_always_eager = True
    rng = random.Random(6)
    Study.objects.create(code="BENCH", title="Benchmark", time_zone="Europe/Athens", safety_contact_email="s@example.org")
    site = Site.objects.create(code="BEN", name="Bench", country="GR", time_zone="Europe/Athens")
    coordinator, _ = user_create(actor=None, username="bench-coord", roles=[Role.COORDINATOR], site_codes=["BEN"],
                                 password="Bench-Password-2026!")
    randomized_at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    # --- 1. saving a SOFA day, derivations included ---
    per = 15
    people = []
    for i in range(args.saves // per + 1):
        p = Participant(site=site, screening_number=f"S{i:05d}", subject_id=f"BEN-{i:05d}", randomized_at=randomized_at)
        p._change_reason = "benchmark"
        p.save()
        Administration.objects.create(participant=p, route="iv", dose_number=1, given=True, status=EntryStatus.SUBMITTED,
                                      started_at=randomized_at + dt.timedelta(minutes=30))
        people.append(p)
    comps = ("respiration", "coagulation", "liver", "cardiovascular", "cns", "renal")
    creates: list[float] = []
    forms = []
    for p in people:
        for day in range(1, per + 1):
            if len(creates) >= args.saves:
                break
            sub = {c: rng.randint(0, 4) for c in comps}
            missing = {c for c in comps if rng.random() < 0.1}
            data = {"day": day, **raw_values(sub, rng, missing)}
            t0 = time.perf_counter()
            forms.append(form_create(actor=coordinator, spec=SOFA_DAY, participant=p, data=data, submit=True))
            creates.append(time.perf_counter() - t0)
    updates: list[float] = []
    for form in forms[: args.saves // 3]:
        current = SofaDay.objects.get(pk=form.pk)  # later days may have been re-scored (new version)
        t0 = time.perf_counter()
        form_update(actor=coordinator, spec=SOFA_DAY, form=current, data={"platelets": Decimal(rng.randint(10, 300))},
                    version=current.version, reason="benchmark correction")
        updates.append(time.perf_counter() - t0)
    # Endpoints are derived when a service changes an input: here every participant with a saved
    # SOFA day (the last one set up may have none once ``--saves`` is reached).
    derived = set(SofaEndpoint.objects.values_list("participant_id", flat=True))
    expected = {form.participant_id for form in forms}
    assert derived == expected, f"endpoints of {len(derived)} participants, expected {len(expected)}"

    def report(name: str, xs: list[float]) -> None:
        xs = sorted(xs)
        print(f"{name}: n={len(xs)} median {statistics.median(xs) * 1000:.1f} ms, "
              f"p90 {xs[int(len(xs) * 0.9)] * 1000:.1f} ms, max {xs[-1] * 1000:.1f} ms")

    report("create + submit a SOFA day (scoring, later-day re-scoring, endpoint derivation on commit)", creates)
    report("correct an earlier SOFA day with a reason (re-scores later days, re-derives endpoint)", updates)

    # --- 2. re-deriving the endpoints of N participants ---
    n = args.participants
    start = Participant.objects.count()
    Participant.objects.bulk_create([Participant(site=site, screening_number=f"B{i:06d}", subject_id=f"BB-{i:06d}",
                                                 randomized_at=randomized_at) for i in range(n)], batch_size=2000)
    ids = list(Participant.objects.filter(screening_number__startswith="B").values_list("pk", flat=True))
    days, doses, deaths = [], [], []
    for pid in ids:
        base = rng.randint(3, 14)
        death_day = rng.randint(3, 14) if rng.random() < 0.12 else None
        for day in range(1, 16):
            if death_day and day >= death_day:
                break
            if rng.random() < 0.05:
                continue
            days.append(SofaDay(participant_id=pid, day=day, status=EntryStatus.SUBMITTED,
                                total=max(0, min(24, base - day // 3 + rng.randint(-2, 2)))))
        if rng.random() < 0.98:
            doses.append(Administration(participant_id=pid, route="iv", dose_number=1, given=True,
                                        status=EntryStatus.SUBMITTED, started_at=randomized_at + dt.timedelta(hours=1)))
        if death_day:
            deaths.append(Death(participant_id=pid, died_at=randomized_at + dt.timedelta(days=death_day - 1),
                                cause="bench", study_day=death_day, status=EntryStatus.SUBMITTED))
    SofaDay.objects.bulk_create(days, batch_size=5000)
    Administration.objects.bulk_create(doses, batch_size=5000)
    Death.objects.bulk_create(deaths, batch_size=5000)
    print(f"bulk set-up: {n} participants (+{start} earlier), {len(days)} SOFA days, {len(deaths)} deaths")

    t0 = time.perf_counter()
    r = endpoints_rederive(participant_ids=ids)
    print(f"first derivation of {r.participants} participants: {time.perf_counter() - t0:.2f} s "
          f"(created {r.created}, with chained history)")
    t0 = time.perf_counter()
    r = endpoints_rederive(participant_ids=ids)
    print(f"re-derive, inputs unchanged: {time.perf_counter() - t0:.2f} s (changed {r.changed})")
    SofaDay.objects.filter(participant_id__in=ids, day=2).update(total=0)
    t0 = time.perf_counter()
    r = endpoints_rederive(participant_ids=ids)
    print(f"re-derive after day 2 changed for everyone: {time.perf_counter() - t0:.2f} s (changed {r.changed})")


if __name__ == "__main__":
    main()
