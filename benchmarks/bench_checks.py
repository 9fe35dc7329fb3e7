"""Benchmark: the edit-check engine. The whole-study sweep (first run, a run with nothing changed,
a run after corrections) and the after-save run of one participant.

Run against a PostgreSQL you can create databases on (a fresh ``test_<db>`` is created and dropped):
    DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/ecrf python benchmarks/bench_checks.py [--participants 10000]

The checks: ``--synthetic-checks`` (30) set-based checks on the test form (``tests.testapp``: heart
rate above a threshold per check, and a missing form), over ``--participants`` participants with
three forms each, so that the engine's cost is measured whatever the clinical apps declare (their
rules cost what their own queries cost on top of this).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--synthetic-checks", type=int, default=30)
    parser.add_argument("--after-save", type=int, default=50, help="after-save runs to time")
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


def _checks(n: int) -> list:
    from django.db.models import Exists, F, IntegerField, OuterRef, Value

    from ecrf.crf.checks import EditCheck, Severity
    from ecrf.crf.models import EntryStatus, Participant
    from tests.testapp.models import VitalSigns

    def above(limit: int):  # noqa: ANN202
        def rule(scope):  # noqa: ANN001, ANN202
            return (VitalSigns.objects.filter(participant__in=scope.participants, heart_rate__gt=limit)
                    .exclude(status=EntryStatus.RETRACTED)
                    .annotate(form_id=F("pk"), item=Value("")).values("participant_id", "form_id", "item"))
        return rule

    def missing(scope):  # noqa: ANN001, ANN202
        has = VitalSigns.objects.filter(participant_id=OuterRef("pk"))
        return (Participant.objects.filter(pk__in=scope.participants.values("pk")).filter(~Exists(has))
                .annotate(participant_id=F("pk"), form_id=Value(None, output_field=IntegerField()), item=Value("x"))
                .values("participant_id", "form_id", "item"))

    out = [EditCheck(code="BEN-000", version=1, message="No vital signs.", severity=Severity.HARD,
                     form="testapp.vitals", fields=("measured_on",), rationale="bench", rule=missing)]
    for i in range(1, n):
        out.append(EditCheck(code=f"BEN-{i:03d}", version=1, message=f"Heart rate above {150 + i}.",
                             severity=Severity.SOFT, form="testapp.vitals", fields=("heart_rate",), rationale="bench",
                             rule=above(150 + i)))
    return out


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ecrf.crf.models import EntryStatus, Participant
    from ecrf.queries.models import Query
    from ecrf.queries.services import checks_run
    from ecrf.study.models import Site, Study
    from tests.testapp.models import VitalSigns

    rng = random.Random(11)
    Study.objects.create(code="BENCH", title="Benchmark", time_zone="Europe/Athens", safety_contact_email="s@example.org")
    site = Site.objects.create(code="BEN", name="Bench", country="GR", time_zone="Europe/Athens")
    # Bulk rows without history: the benchmark times the checks, not the data entry.
    Participant.objects.bulk_create([Participant(site=site, screening_number=f"S{i:06d}")
                                     for i in range(args.participants)], batch_size=2000)
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    forms = [VitalSigns(participant_id=pid, measured_on=dt.date(2026, 3, d), temperature="37.0",
                        heart_rate=rng.choice((80, 90, 100, 155, 160, 175)) if rng.random() < 0.3 else 85,
                        status=EntryStatus.SUBMITTED)
             for pid in ids[: int(len(ids) * 0.98)] for d in (1, 2, 3)]
    VitalSigns.objects.bulk_create(forms, batch_size=5000)
    checks = _checks(args.synthetic_checks)
    print(f"{len(ids)} participants, {len(forms)} forms, {len(checks)} checks")

    def sweep(label: str) -> None:
        with CaptureQueriesContext(connection) as q:
            started = time.perf_counter()
            result = checks_run(trigger="beat", checks=checks)
            took = time.perf_counter() - started
        print(f"{label}: {took:.2f} s, {len(q.captured_queries)} queries; opened {result.opened}, "
              f"closed {result.closed}, reopened {result.reopened}; {Query.objects.count()} queries in all")

    sweep("sweep, first run")
    sweep("sweep, nothing changed")
    # Correct a tenth of the fast heart rates (as a bulk fix, without history: setup only).
    fast = list(VitalSigns.objects.filter(heart_rate__gt=150).order_by("pk").values_list("pk", flat=True))
    fixed = fast[: len(fast) // 10]
    VitalSigns.objects.filter(pk__in=fixed).update(heart_rate=90)
    sweep(f"sweep after correcting {len(fixed)} forms")

    times, counts = [], []
    for pid in rng.sample(ids, args.after_save):
        with CaptureQueriesContext(connection) as q:
            started = time.perf_counter()
            checks_run(trigger="after_save", participant_ids=[pid], checks=checks)
            times.append(time.perf_counter() - started)
        counts.append(len(q.captured_queries))
    times.sort()
    print(f"after-save run of one participant: median {1000 * statistics.median(times):.1f} ms, "
          f"p95 {1000 * times[int(0.95 * len(times)) - 1]:.1f} ms (n={len(times)}), "
          f"{statistics.median(counts):.0f} queries")


if __name__ == "__main__":
    main()
