"""Benchmark: ``generate_trial`` at scale, then the periodic jobs on the trials it builds.

For each size (default 1,000 and 10,000 participants) a throw-away test database is created
(``test_<db>``; the run stops if it already exists), the bulk generator builds the trial
(``generate_trial --bulk``), and the beat schedule's periodic jobs run once each on it: the SAE
clock job (``safety.tasks.evaluate_clocks``), the nightly endpoint re-derivation
(``ecrf.sofa.tasks.rederive_all_endpoints``) and the missed-dose sweep
(``ecrf.dosing.tasks.sweep_missed_doses``). Prints the time per step, the rows per table and,
between consecutive sizes, the ratio of the times (linear cost: the ratio of the sizes).

    DATABASE_URL=postgresql://user:pass@host:port/db python benchmarks/generate.py [--sizes 1000 10000]

Not part of CI (minutes at 10,000 participants). One run per size, not a median.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true",
                        help="Keep the last size's database (test_<db>) for the other benchmarks; "
                             "the next run stops until it is dropped.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # no query log: it would hold every statement of the run
    results = []
    for i, n in enumerate(args.sizes):
        results.append(run_one(n, args.seed, keep=args.keep and i == len(args.sizes) - 1))
        connection.close()
    print()
    print(f"{'participants':>12} {'generate s':>11} {'clock job s':>12} {'endpoints s':>12} {'missed-dose s':>14}"
          f" {'checks again s':>15} {'audit full s':>13} {'audit incr. s':>14}")
    for r in results:
        print(f"{r['n']:>12,} {r['generate']:>11.1f} {r['clocks']:>12.2f} {r['endpoints']:>12.2f} {r['sweep']:>14.2f}"
              f" {r['checks']:>15.2f} {r['audit']:>13.2f} {r['audit_incremental']:>14.2f}")
    for a, b in zip(results, results[1:], strict=False):
        print(f"ratio {b['n']:,} / {a['n']:,} (sizes {b['n'] / a['n']:.1f}x): generate {b['generate'] / a['generate']:.2f}x, "
              f"clock job {b['clocks'] / a['clocks']:.2f}x, endpoints {b['endpoints'] / a['endpoints']:.2f}x, "
              f"missed-dose sweep {b['sweep'] / a['sweep']:.2f}x, edit checks with nothing changed "
              f"{b['checks'] / a['checks']:.2f}x, full audit verification {b['audit'] / a['audit']:.2f}x")


def run_one(n: int, seed: int, *, keep: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from ecrf.crf.management.commands.generate_trial import generate, table_rows

    name = "test_" + connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                raise SystemExit(f"{name} already exists: another run is using it (or left it); drop it first.")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"--- {n:,} participants, {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
        t0 = time.perf_counter()
        ctx = generate(participants=n, seed=seed, bulk=True, out=sys.stdout)
        generated = time.perf_counter() - t0
        print(f"generate_trial --bulk --participants {n}: {generated:.1f} s "
              f"({generated / max(n, 1) * 1000:.0f} ms per participant); per step: "
              + ", ".join(f"{k.removeprefix('ecrf.')} {v:.1f}" for k, v in ctx.timings.items()))
        total = 0
        for table, count in table_rows():
            print(f"  {table:<48} {count:>10,}")
            total += count
        print(f"  {'all tables':<48} {total:>10,}")
        times = {"n": n, "generate": generated}
        times.update(jobs())
        return times
    finally:
        if keep:
            print(f"kept {name} for the other benchmarks (DATABASE_URL=...{name})")
        else:
            teardown_databases(old, verbosity=0)


def jobs() -> dict[str, float]:
    """Each periodic job once, as beat runs it (the task's function, in this process)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ecrf.audit.tasks import verify_audit_chain
    from ecrf.dosing.tasks import sweep_missed_doses
    from ecrf.queries.tasks import sweep_checks
    from ecrf.sofa.tasks import rederive_all_endpoints
    from safety.tasks import evaluate_clocks

    out = {}
    for key, label, job in (("clocks", "SAE clock job", evaluate_clocks),
                            ("endpoints", "endpoint re-derivation", rederive_all_endpoints),
                            ("sweep", "missed-dose sweep", sweep_missed_doses),
                            # the generator's own last step swept every check once: this second
                            # sweep finds nothing changed and must write nothing
                            ("checks", "edit-check sweep, nothing changed", sweep_checks),
                            ("audit", "audit verification, full", lambda: verify_audit_chain(full=True)),
                            ("audit_incremental", "audit verification, incremental",
                             lambda: verify_audit_chain(full=False))):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = job()
            out[key] = time.perf_counter() - t0
        print(f"{label}: {out[key]:.2f} s, {len(queries)} queries; {result}", flush=True)
    return out


if __name__ == "__main__":
    main()
