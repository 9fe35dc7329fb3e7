"""Randomization benchmark: run against PostgreSQL.

    DATABASE_URL=postgresql://USER:PASS@HOST:PORT/DB python benchmarks/randomize.py [--sequential 100] [--parallel 50]

Creates a throw-away test database (``test_<DB>``), builds sites, users and eligible
participants through the services, then measures:
- generation of a 10,000-slot allocation list (pure, and generated + stored through the service);
- ``participant_randomize`` one at a time (median, p95) -- target: median under 50 ms;
- N parallel ``POST /api/v1/participants/{id}/randomize/`` requests, one thread and one database
  connection each -- target: all succeed, distinct consecutive slots.
Targets are printed, not asserted: timings belong in a benchmark, not in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # enqueue for real, into memory


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, connections
    from django.test.utils import setup_test_environment

    setup_test_environment()  # in-process requests (the "testserver" host), locmem e-mail

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL=postgresql://... (the benchmark measures row locks on PostgreSQL).", file=sys.stderr)
        return 2
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return _run(args, connection, connections, test_db)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(test_db, verbosity=0)


def _run(args, connection, connections, test_db) -> int:
    from rest_framework.test import APIClient

    from ecrf.accounts.roles import Role
    from ecrf.accounts.services import user_create
    from ecrf.randomization import allocation
    from ecrf.randomization.models import Assignment, Stratum
    from ecrf.randomization.services import (
        allocation_list_generate,
        participant_randomize,
    )
    from ecrf.study.models import Site, Study
    from tests.screening.factories import eligible_participant

    print(f"PostgreSQL {connection.pg_version // 10000}, database {test_db}")
    # 1. List generation.
    t = time.perf_counter()
    slots = allocation.generate_allocation_list(strata=[("X", "MALS")], slots_per_stratum=10_000, block_sizes=(4, 6),
                                                seed="bench")
    pure = time.perf_counter() - t
    Study.objects.create(code="BENCH", title="Benchmark", safety_contact_email="safety@example.org")
    sites = [Site.objects.create(code=c, name=c, country="GR", time_zone="Europe/Athens") for c in ("S1", "S2")]
    password = "Benchmark-Password-9"
    statistician = user_create(actor=None, username="stat", roles=[Role.STATISTICIAN], password=password)[0]
    lab = user_create(actor=None, username="lab", roles=[Role.LAB], password=password)[0]
    coordinators = [user_create(actor=None, username=f"coord{s.code}", roles=[Role.COORDINATOR], site_codes=[s.code],
                                password=password)[0] for s in sites]
    for s in sites:
        user_create(actor=None, username=f"pharm{s.code}", roles=[Role.PHARMACIST], site_codes=[s.code], password=password)
    t = time.perf_counter()
    allocation_list_generate(actor=statistician, seed="bench", slots_per_stratum=2_500)  # 2 sites x 2 phenotypes
    stored = time.perf_counter() - t
    print(f"10,000-slot list: pure generation {pure * 1000:.0f} ms ({len(slots)} slots); "
          f"generated and stored through the service (4 strata x 2,500) {stored * 1000:.0f} ms  [target < 1 s]")

    # 2. Sequential randomize.
    people = [eligible_participant(coordinators[0], lab, sites[0], f"SEQ-{n}", ("MALS", "immunoparalysis")[n % 2])
              for n in range(args.sequential)]
    times = []
    for p in people:
        t = time.perf_counter()
        participant_randomize(actor=coordinators[0], participant=p)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"randomize, one at a time (n={len(times)}): median {statistics.median(times) * 1000:.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms  [target median < 50 ms]")

    # 3. Parallel requests through the API, one stratum per site (the worst case: one lock).
    batch = [(coordinators[n % 2], eligible_participant(coordinators[n % 2], lab, sites[n % 2], f"PAR-{n}", "MALS"))
             for n in range(args.parallel)]
    before = {k: v for k, v in Stratum.objects.values_list("key", "next_sequence")}
    barrier = threading.Barrier(len(batch))
    results: list[tuple[int, float]] = [(0, 0.0)] * len(batch)

    def request(i: int, user, participant) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            t0 = time.perf_counter()
            response = client.post(f"/api/v1/participants/{participant.pk}/randomize/")
            results[i] = (response.status_code, time.perf_counter() - t0)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(i, u, p)) for i, (u, p) in enumerate(batch)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    codes = [c for c, _ in results]
    latencies = sorted(d for _, d in results)
    ok = codes.count(200)
    consecutive = True
    for s in sites:
        key = f"{s.code}|MALS"
        seqs = sorted(Assignment.objects.filter(stratum_key=key, participant__screening_number__startswith="PAR-")
                      .values_list("slot__sequence", flat=True))
        consecutive &= seqs == list(range(before[key], before[key] + len(seqs)))
    print(f"{len(batch)} parallel randomize requests: {ok} x 200, errors {len(batch) - ok}; wall {wall * 1000:.0f} ms; "
          f"per request median {statistics.median(latencies) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
          f"slots distinct and consecutive: {consecutive}  [target: all succeed]")
    return 0 if ok == len(batch) and consecutive else 1


if __name__ == "__main__":
    sys.exit(main())
