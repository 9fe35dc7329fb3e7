"""Audit-trail verification: full and incremental runs, time and memory, on the database given.

Usage (the database holds a trial built by ``manage.py generate_trial --participants N``):

    DATABASE_URL=postgresql://… SECRET_KEY=… AUDIT_HMAC_KEY=<the key the trial was built with> \\
    .venv/bin/python benchmarks/bench_verify_audit.py [--batch-size 2000] [--add-events 0] [--writes 200]

1. a full run (every chain, every head, every live audited row), its rows and time; with
   ``--memory`` a second one under tracemalloc (which slows it several times) for the peak of
   Python memory allocated during a run, and the process's peak RSS;
2. ``--writes`` new audited writes (events of the event log), then an incremental run from the
   checkpoint the full run recorded: the rows it read and its time;
3. with ``--add-events N``, first N more chained events in bulk (the trail grows without more
   participants), to see the full run's cost per row and its memory stay flat.
The result events of these runs are written to the database like the hourly job's.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--add-events", type=int, default=0)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--memory", action="store_true",
                        help="a second full run under tracemalloc (slow) for the peak Python allocation")
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from ecrf.audit.models import Event, EventKind, append_many_to_chain
    from ecrf.audit.services import audit_verify, event_record
    from ecrf.crf.models import Participant

    if args.add_events:
        t = time.perf_counter()
        for start in range(0, args.add_events, 10_000):
            batch = [Event(kind=EventKind.DOWNLOAD, object_type="benchmark", object_id=str(start + i))
                     for i in range(min(10_000, args.add_events - start))]
            append_many_to_chain(Event, batch, batch_size=2000)
        print(f"added {args.add_events} chained events in {time.perf_counter() - t:.1f} s")
    participants = Participant.objects.filter(randomized_at__isnull=False).count()
    print(f"database: {connection.vendor}; {participants} randomized participants, "
          f"{Participant.objects.count()} participants, {Event.objects.count()} events")

    t = time.perf_counter()
    full = audit_verify(batch_size=args.batch_size)
    full_s = time.perf_counter() - t
    print(f"full run: ok={full.ok} {full.chain_rows} links in {full.tables} chains + {full.live_rows} live rows "
          f"in {full_s:.1f} s ({full.rows / full_s:,.0f} rows/s); batch size {args.batch_size}")
    if args.memory:
        tracemalloc.start()
        audit_verify(batch_size=args.batch_size, record=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"memory: peak Python allocation during a full run {peak / 2**20:.1f} MiB; process peak RSS {rss:.0f} MiB")
    if not full.ok:
        print(f"broken: {full.broken}")
        sys.exit(1)

    for n in range(args.writes):
        event_record(kind=EventKind.DOWNLOAD, object_type="benchmark", object_id=f"w{n}")
    t = time.perf_counter()
    incremental = audit_verify(incremental=True, batch_size=args.batch_size)
    inc_s = time.perf_counter() - t
    print(f"incremental run after {args.writes} writes: ok={incremental.ok} incremental={incremental.incremental} "
          f"{incremental.chain_rows} links + {incremental.live_rows} live rows in {inc_s * 1000:.0f} ms "
          f"({full_s / inc_s:.0f}x faster than the full run)")
    sys.exit(0 if incremental.ok and incremental.incremental else 1)


if __name__ == "__main__":
    main()
