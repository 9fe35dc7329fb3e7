"""Benchmark: the locked export package. The package without its ODM (time, and its ratio to
PostgreSQL ``COPY`` of the same rows, the floor measured in the same run), the ODM's item
records per second, and the export process's peak memory.

Run against a PostgreSQL you can create databases on (a fresh ``test_<db>`` is created and dropped):
    DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/ecrf python benchmarks/bench_export.py [--participants 10000]

The data: ``--participants`` participants, each with ``--forms`` submitted test forms
(``tests.testapp``), every row with its history row, bulk-inserted (the benchmark times the
export, not the data entry), and the study lock. The export runs in a child process, so its peak
RSS is the export's alone (not the data generation's); run it at 1,000 and at 10,000
participants to see that memory does not grow with the study.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")

CHILD = """
import json, time, django
django.setup()
from ecrf.exports import services
marks = []
real = services.builder.package_write
def timed(ctx, **kw):
    progress = kw.pop("progress")
    def mark(percent, what):
        marks.append((what, time.perf_counter()))
        progress(percent, what)
    return real(ctx, progress=mark, **kw)
services.builder.package_write = timed
import cProfile, os, pstats, sys
profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
started = time.perf_counter()
if profile:
    profile.enable()
job = services.export_job_run(job_id={job})
ended = time.perf_counter()
if profile:
    profile.disable()
    pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
steps = [w for w, _ in marks]
odm_start = marks[steps.index("odm")][1]
odm_end = marks[steps.index("odm") + 1][1]
import zipfile
from ecrf.exports.package import exports_dir
with zipfile.ZipFile(exports_dir() / job.file_name) as zf:
    items = json.loads(zf.read("manifest.json"))["odm"]["items"]
print(json.dumps({{"status": job.status, "error": job.error, "total": ended - started, "odm": odm_end - odm_start,
                   "size": job.size, "odm_valid": job.odm_valid, "items": items}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--forms", type=int, default=10, help="test forms per participant")
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


def _generate(args: argparse.Namespace) -> tuple[int, list[str], int]:
    from django.utils import timezone

    from ecrf.accounts.models import User
    from ecrf.crf.models import EntryStatus, LockScope, Participant
    from ecrf.study.models import Site, Study
    from tests.testapp.models import VitalSigns

    rng = random.Random(7)
    at = timezone.now() - dt.timedelta(days=30)
    Study.objects.create(code="BENCH", title="Benchmark", time_zone="Europe/Athens", safety_contact_email="s@example.org")
    site = Site.objects.create(code="BEN", name="Bench", country="GR", time_zone="Europe/Athens")
    user = User.objects.create(username="bench-coordinator")
    Participant.objects.bulk_create([Participant(site=site, screening_number=f"S{i:06d}", subject_id=f"BEN-{i:05d}",
                                                 randomized_at=at, created_at=at, created_by=user)
                                     for i in range(args.participants)], batch_size=5000)
    hp = Participant.history.model
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        rows = Participant.objects.filter(pk__in=ids[start:start + 5000]).values()
        hp.objects.bulk_create([hp(**r, history_date=at, history_type="+", history_user=user,
                                   history_change_reason="Created") for r in rows], batch_size=5000)
    hv = VitalSigns.history.model
    for start in range(0, len(ids), 1000):
        forms = [VitalSigns(participant_id=pid, measured_on=dt.date(2026, 3, 1) + dt.timedelta(days=d),
                            temperature=f"{rng.uniform(36, 40):.1f}", heart_rate=rng.randint(50, 160),
                            notes="bench" if rng.random() < 0.1 else "", status=EntryStatus.SUBMITTED,
                            created_at=at, updated_at=at, submitted_at=at, created_by=user, updated_by=user)
                 for pid in ids[start:start + 1000] for d in range(args.forms)]
        VitalSigns.objects.bulk_create(forms, batch_size=5000)
        rows = VitalSigns.objects.filter(participant_id__in=ids[start:start + 1000]).values()
        hv.objects.bulk_create([hv(**r, history_date=at, history_type="+", history_user=user,
                                   history_change_reason="Created and submitted") for r in rows], batch_size=5000)
    lock = LockScope.objects.create(level="study", kind="lock", set_at=timezone.now() - dt.timedelta(days=1), set_by=user,
                             reason="Benchmark lock")
    tables = [Participant._meta.db_table, hp._meta.db_table, VitalSigns._meta.db_table, hv._meta.db_table]
    return len(ids), tables, lock.pk


def _copy_floor(tables: list[str]) -> float:
    """PostgreSQL's own ``COPY ... TO STDOUT (FORMAT csv)`` of the tables the package reads most."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in tables:
            with raw.copy(f'COPY (SELECT * FROM "{table}" ORDER BY 1) TO STDOUT WITH (FORMAT csv, HEADER)') as copy:
                for _ in copy:
                    pass
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from ecrf.accounts.models import User
    from ecrf.exports.models import ExportJob

    started = time.perf_counter()
    n, tables, lock_id = _generate(args)
    print(f"{n} participants, {n * args.forms} forms with their history rows ({time.perf_counter() - started:.1f} s to generate)")
    copy_seconds = _copy_floor(tables) if connection.vendor == "postgresql" else float("nan")
    job = ExportJob.objects.create(source="lock", lock_id=lock_id, blinded=True, requested_by=User.objects.get())
    s = connection.settings_dict
    url = (f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
           if connection.vendor == "postgresql" else f"sqlite:///{s['NAME']}")
    with tempfile.TemporaryDirectory(prefix="ecrf-bench-export-") as out:
        env = {**os.environ, "DATABASE_URL": url, "EXPORTS_DIR": out}
        child = subprocess.run([sys.executable, "-c", CHILD.format(job=job.pk)], env=env, cwd=str(ROOT),
                               capture_output=True, text=True, check=False)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if os.environ.get("BENCH_PROFILE"):
        print(child.stderr)
    if child.returncode != 0:
        raise SystemExit(child.stderr)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["status"] != "done":
        raise SystemExit(result["error"])
    items = result["items"]
    without_odm = result["total"] - result["odm"]
    print(f"package without ODM: {without_odm:.1f} s; PostgreSQL COPY of the same rows: {copy_seconds:.1f} s; "
          f"ratio {without_odm / copy_seconds:.1f}x")
    print(f"ODM: {items} item records in {result['odm']:.1f} s (written and schema-validated): "
          f"{items / result['odm']:,.0f} item records/s; schema valid: {result['odm_valid']}")
    print(f"whole package {result['total']:.1f} s, {result['size'] / 2**20:.1f} MiB; export process peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
