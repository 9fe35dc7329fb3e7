"""Benchmark: the clock job over 10,000 running clocks (target: < 5 s on PostgreSQL, fixed
number of queries). Creates a throw-away test database, 10,000 open SAE clocks that all cross
both thresholds at the evaluated instant (the worst case: every clock notifies), runs
``clocks_evaluate`` and prints the median of 3 runs and the query count.

    DATABASE_URL=postgresql://user:pass@host:port/db python benchmarks/clocks.py [N]

BENCH_VERBOSE=1 prints each query with its time; BENCH_PROFILE=file.prof writes a cProfile of
the timed runs only (read it with ``python -m pstats file.prof``).
"""

from __future__ import annotations

import datetime as dt
import cProfile
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def main(n: int = 10_000, runs: int = 3) -> None:
    from django.test.utils import get_runner
    from django.conf import settings

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        from ecrf.accounts.roles import Role
        from ecrf.accounts.services import user_create
        from ecrf.crf.models import Participant
        from ecrf.notifications.models import Notification
        from ecrf.study.models import Site, Study
        from safety.clocks import ClockKind
        from safety.meddra import ensure_demo_dictionary
        from safety.models import AdverseEvent, Clock
        from safety.services import clocks_evaluate

        from ecrf.notifications import tasks

        # Delivery is a separate task (the outbox); enqueueing it is not the clock job's cost.
        tasks.deliver_pending.delay = lambda *a, **k: None
        ensure_demo_dictionary()
        Study.objects.create(code="BENCH", title="Bench", safety_contact_email="contact@example.org")
        site = Site.objects.create(code="A", name="A", country="GR", time_zone="Europe/Athens")
        for role in (Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE, Role.INVESTIGATOR, Role.COORDINATOR):
            user_create(actor=None, username=role, roles=[role], site_codes=["A"] if role in (Role.INVESTIGATOR, Role.COORDINATOR) else [],
                        password="Bench-Password-1", is_lead_safety_officer=role == Role.SAFETY_OFFICER)
        user_create(actor=None, username="contact", roles=[Role.SPONSOR], password="Bench-Password-1", email="contact@example.org")
        aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)
        participants = Participant.objects.bulk_create([Participant(site=site, screening_number=f"S{i}") for i in range(n // 10)])
        aes = AdverseEvent.objects.bulk_create([
            AdverseEvent(participant=p, status="submitted", verbatim_term="x", onset_date=aware.date(), grade=3, outcome="recovering",
                         aware_at=aware, serious=True, serious_hospitalisation=True, causality_iv="possible", causality_sc="unlikely")
            for p in participants for _ in range(10)])
        Clock.objects.bulk_create([
            Clock(adverse_event=ae, kind=ClockKind.SAE_INITIAL, started_at=aware, due_at=aware + dt.timedelta(hours=24),
                  due_soon_at=aware + dt.timedelta(hours=18)) for ae in aes])
        now = aware + dt.timedelta(days=2)
        times, queries, notes = [], [], []
        profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        history = Clock.history.model.objects
        for _ in range(runs):
            # Benchmark set-up only (a throw-away database): every clock back to "not notified".
            Notification.objects.all().delete()
            Clock.objects.update(due_soon_notified_at=None, overdue_notified_at=None, escalation="")
            history_before = history.count()
            with CaptureQueriesContext(connection) as ctx:
                if profile:
                    profile.enable()
                start = time.perf_counter()
                result = clocks_evaluate(now=now)
                times.append(time.perf_counter() - start)
                if profile:
                    profile.disable()
            if os.environ.get("BENCH_VERBOSE"):
                for q in ctx.captured_queries:
                    print(f"  {q['time']} s  {q['sql'][:90]}")
            queries.append(len(ctx.captured_queries))
            notes.append(result["notifications"])
            assert history.count() - history_before == n, "every notified clock gets one history row"
        if profile:
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        quiet_start = time.perf_counter()
        with CaptureQueriesContext(connection) as quiet:
            clocks_evaluate(now=now)  # nothing new: the steady state every two minutes
        quiet_time = time.perf_counter() - quiet_start
        print(f"database: {connection.vendor}")
        print(f"clock job over {n} clocks crossing both thresholds: median {statistics.median(times):.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in times)}), {queries[0]} queries, {notes[0]} notifications, "
              f"{n} history rows")
        print(f"next run with nothing new: {quiet_time * 1000:.0f} ms, {len(quiet.captured_queries)} queries")
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
