"""Benchmark: the server time of the main reads on a sized trial, one client, in process.

Run against a PostgreSQL database of your own (it is migrated, filled once and reused by later
runs with the same size; ``--rebuild`` drops the benchmark rows' database and fills it again):
    DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/ecrf_bench \
        .venv/bin/python benchmarks/request_cost.py --participants 10000 [--n 30] [--explain]

The data, bulk-inserted (the benchmark times reads, not data entry): ``--participants``
participants over ``--sites`` sites, randomized 20 to 60 days ago; each with the full 15-day
dosing (45 IV and 8 SC administrations), SOFA days 1-15 and the day-28 vital status, about 1 %
of the forms in draft, one adverse event per ten participants and one open query per five; every
form with its history row ("+"), and one row in ten with a second ("~"). The history rows are
not hash-chained (no page here verifies the chain).

Each request goes through Django's test client (middleware, view, template, as in production,
without the network): the median and p95 of ``--n`` runs after two warm-up runs, and the number
of queries of one run. ``--explain`` prints PostgreSQL's plan of the coordinator home page's
draft count. ``BENCH_PROFILE=path`` writes a cProfile of the participant page.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings_test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DEBUG", "0")  # production settings: no query log, no template debug

MARK = "REQCOST"  # the study code marking a database filled by this benchmark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--n", type=int, default=30, help="timed runs per request")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated request names")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    _ensure_data(args)
    if args.explain:
        _explain()
    run(args)


def _ensure_data(args: argparse.Namespace) -> None:
    from ecrf.crf.models import Participant
    from ecrf.study.models import Study

    have = Study.objects.filter(code=MARK).exists()
    if have and not args.rebuild and Participant.objects.count() == args.participants:
        print(f"reusing {args.participants} participants")
        return
    if Study.objects.exists() or Participant.objects.exists():
        if not args.rebuild:
            raise SystemExit("the database holds other data (or another size): pass --rebuild to empty it "
                             "(every table is truncated)")
        _truncate()
    started = time.perf_counter()
    counts = _generate(args)
    print(f"generated in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def _truncate() -> None:
    """Empty the database: a new public schema on PostgreSQL (the audit tables' triggers refuse
    DELETE), every row deleted on SQLite; then migrate again."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        else:
            for m in apps.get_models(include_auto_created=True):
                cursor.execute(f'DELETE FROM "{m._meta.db_table}"')
    call_command("migrate", verbosity=0, interactive=False)


def _history(model, rows, *, at, user, reason, kind="+"):  # noqa: ANN001, ANN202
    h = model.history.model
    return [h(**r, history_date=at, history_type=kind, history_user=user, history_change_reason=reason) for r in rows]


def _generate(args: argparse.Namespace) -> dict[str, int]:
    from decimal import Decimal

    from django.utils import timezone

    from ecrf.accounts.roles import Role
    from ecrf.accounts.services import user_create
    from ecrf.crf.models import EntryStatus, Participant
    from ecrf.dosing.models import Administration
    from ecrf.outcomes.models import VitalStatus
    from ecrf.queries.models import Query
    from ecrf.sofa.models import SofaDay
    from ecrf.study.models import Site, Study
    from safety.models import AdverseEvent

    rng = random.Random(16)
    now = timezone.now()
    Study.objects.create(code=MARK, title="Request cost", time_zone="Europe/Athens", safety_contact_email="s@example.org")
    sites = [Site.objects.create(code=f"R{i:02d}", name=f"Site {i}", country="GR", time_zone="Europe/Athens")
             for i in range(args.sites)]
    for role in (Role.COORDINATOR, Role.MONITOR):
        user_create(actor=None, username=f"bench-{role}", roles=[role], site_codes=[sites[0].code])
    for role in (Role.DATA_MANAGER, Role.SAFETY_OFFICER, Role.SPONSOR):
        user_create(actor=None, username=f"bench-{role}", roles=[role])
    from ecrf.accounts.models import User

    user = User.objects.get(username=f"bench-{Role.COORDINATOR}")
    Participant.objects.bulk_create([
        Participant(site=sites[i % len(sites)], screening_number=f"S{i:06d}", subject_id=f"RC-{i:05d}",
                    randomized_at=now - dt.timedelta(days=rng.uniform(20, 60)), created_at=now, created_by=user)
        for i in range(args.participants)], batch_size=5000)
    counts = {"participants": args.participants}
    participants = list(Participant.objects.order_by("pk").values_list("pk", "randomized_at"))
    for start in range(0, len(participants), 5000):
        rows = Participant.objects.filter(pk__in=[p for p, _ in participants[start:start + 5000]]).values()
        Participant.history.model.objects.bulk_create(_history(Participant, rows, at=now, user=user, reason="Created"),
                                                      batch_size=5000)

    def status() -> str:
        return EntryStatus.DRAFT if rng.random() < 0.01 else EntryStatus.SUBMITTED

    def common(pid: int, at: dt.datetime) -> dict:
        s = status()
        return {"participant_id": pid, "status": s, "created_at": at, "updated_at": at, "created_by": user,
                "updated_by": user, "submitted_at": at if s == EntryStatus.SUBMITTED else None}

    def forms(pid: int, rand: dt.datetime) -> dict[type, list]:
        out: dict[type, list] = {Administration: [], SofaDay: [], VitalStatus: [], AdverseEvent: [], Query: []}
        for k in range(45):
            at = rand + dt.timedelta(minutes=15) + dt.timedelta(hours=8 * k)
            out[Administration].append(Administration(**common(pid, at), route="iv", dose_number=k + 1, given=True,
                                                      started_at=at, duration_minutes=60, volume_ml=Decimal("20"),
                                                      study_day=1 + int((at - rand).total_seconds() // 86400)))
        for k in range(8):
            at = rand + dt.timedelta(minutes=20) + dt.timedelta(hours=48 * k)
            out[Administration].append(Administration(**common(pid, at), route="sc", dose_number=k + 1, given=True,
                                                      started_at=at, volume_ml=Decimal("0.5"),
                                                      study_day=1 + int((at - rand).total_seconds() // 86400)))
        for d in range(1, 16):
            out[SofaDay].append(SofaDay(**common(pid, rand + dt.timedelta(days=d)), day=d, total=rng.randint(2, 14)))
        out[VitalStatus].append(VitalStatus(**common(pid, rand + dt.timedelta(days=28)), day=28, vital_status="alive",
                                                assessed_on=(rand + dt.timedelta(days=28)).date()))
        if pid % 10 == 0:
            out[AdverseEvent].append(AdverseEvent(**common(pid, rand + dt.timedelta(days=2)), verbatim_term="Rash",
                                                  onset_date=(rand + dt.timedelta(days=2)).date(), grade=2,
                                                  outcome="recovered", aware_at=rand + dt.timedelta(days=2)))
        return out

    for model in (Administration, SofaDay, VitalStatus, AdverseEvent):
        counts[model._meta.verbose_name_plural] = 0
    batch = 500
    for start in range(0, len(participants), batch):
        chunk = participants[start:start + batch]
        made: dict[type, list] = {}
        for pid, rand in chunk:
            for model, rows in forms(pid, rand).items():
                made.setdefault(model, []).extend(rows)
        ids = [p for p, _ in chunk]
        for model in (Administration, SofaDay, VitalStatus, AdverseEvent):
            model.objects.bulk_create(made[model], batch_size=5000)
            counts[model._meta.verbose_name_plural] += len(made[model])
            rows = list(model.objects.filter(participant_id__in=ids).values())
            history = _history(model, rows, at=now, user=user, reason="Created and submitted")
            history += _history(model, [r for r in rows if r["id"] % 10 == 0], at=now, user=user,
                                reason="Corrected the value", kind="~")
            model.history.model.objects.bulk_create(history, batch_size=5000)
        queries = [Query(participant_id=pid, form_key="sofa.sofa_day", field="total", target_key=f"q{pid}",
                         text="Please check the total.", released_at=now, opened_at=now, updated_at=now,
                         assignee_role="coordinator") for pid in ids if pid % 5 == 0]
        Query.objects.bulk_create(queries)
        counts["queries"] = counts.get("queries", 0) + len(queries)
        print(f"  {start + len(chunk):,} / {len(participants):,}", end="\r", flush=True)
    print()
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def _explain() -> None:
    """PostgreSQL's plan of the coordinator's count of administration drafts (the largest form
    table), then of the home page's whole draft count (one statement over every form table)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ecrf.accounts.models import User
    from ecrf.accounts.roles import Role, user_roles
    from ecrf.crf.models import EntryStatus
    from ecrf.crf.registry import all_specs
    from ecrf.crf.selectors import forms_for
    from ecrf.dosing.specs import ADMINISTRATION
    from ecrf.home import providers

    user = User.objects.get(username=f"bench-{Role.COORDINATOR}")
    sql, params = forms_for(user, ADMINISTRATION).filter(status=EntryStatus.DRAFT).order_by().values("pk").query.sql_with_params()
    plans = [("the coordinator's administration drafts count", f"SELECT COUNT(*) FROM ({sql}) AS drafts", params)]
    if hasattr(providers, "_draft_count"):
        roles = user_roles(user)
        with CaptureQueriesContext(connection) as ctx:
            providers._draft_count(user, [s for s in all_specs() if roles & s.write_roles])
        plans.append(("the home page's draft count over every form table", ctx.captured_queries[-1]["sql"], None))
    with connection.cursor() as cursor:
        for what, statement, args in plans:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", args)
            print(f"EXPLAIN ANALYZE of {what}:")
            for (line,) in cursor.fetchall():
                print("   ", line)


def _requests() -> list[tuple[str, str, str]]:
    """(name, role of the user, path)."""
    from django.urls import reverse

    from ecrf.accounts.roles import Role
    from ecrf.crf.models import Participant

    # A participant in the middle of the coordinator's site (site R00).
    at_site = Participant.objects.filter(site__code="R00").order_by("pk")
    p = at_site[at_site.count() // 2]
    return [
        ("participant list API", Role.COORDINATOR, reverse("participant-list")),
        ("participant detail API", Role.COORDINATOR, reverse("participant-detail", args=[p.pk])),
        ("schedule API", Role.COORDINATOR, reverse("participant-schedule-list", args=[p.pk])),
        ("casebook", Role.COORDINATOR, reverse("schedule:casebook", args=[p.pk])),
        ("participant page", Role.COORDINATOR, reverse("crf:participant-detail", args=[p.pk])),
        ("coordinator home", Role.COORDINATOR, reverse("home:home")),
        ("participant list page", Role.COORDINATOR, reverse("crf:participant-list")),
        ("administrations list API", Role.COORDINATOR, reverse("administrations-list")),
        ("query inbox (data manager)", Role.DATA_MANAGER, reverse("queries:inbox")),
        ("AE list (safety officer)", Role.SAFETY_OFFICER, reverse("safety:ae-list")),
        ("data manager home", Role.DATA_MANAGER, reverse("home:home")),
    ]


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from ecrf.accounts.models import User

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    clients: dict[str, Client] = {}
    print(f"{'request':32} {'median ms':>9} {'p95 ms':>8} {'queries':>8}  status")
    for name, role, path in _requests():
        if only and name not in only:
            continue
        client = clients.get(role)
        if client is None:
            client = clients[role] = Client(HTTP_HOST="testserver")
            client.force_login(User.objects.get(username=f"bench-{role}"))
        for _ in range(2):
            response = client.get(path)
        statements: list[str] = []

        def count(execute, sql, *rest, _seen=statements):  # noqa: ANN001, ANN202
            _seen.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            response = client.get(path)
        times = []
        profile = None
        if os.environ.get("BENCH_PROFILE") and name == "participant page":
            import cProfile

            profile = cProfile.Profile()
        for _ in range(args.n):
            started = time.perf_counter()
            if profile:
                profile.enable()
            client.get(path)
            if profile:
                profile.disable()
            times.append((time.perf_counter() - started) * 1000)
        if profile:
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:32} {statistics.median(times):9.1f} {p95:8.1f} {len(statements):8}  {response.status_code}")


if __name__ == "__main__":
    main()
