"""Benchmark: saving an administration (target: median under 50 ms on PostgreSQL).

Usage: SECRET_KEY=x AUDIT_HMAC_KEY=benchmark-only-audit-key-0123456789abcdef ALLOWED_HOSTS=testserver DATABASE_URL=postgresql://user:pass@host:port/db python benchmarks/administration.py [--n 200]
Migrates the database, creates a site, a coordinator and randomized participants (unique names per
run), then times ``form_create`` of submitted IV administrations through the service (the same
path the API and pages use: role and site check, write guard, validation against the schedule,
death / withdrawal / discontinuation rules, system deviation rules, history) and through the API
(POST /api/v1/administrations/). Prints the medians and 95th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    call_command("migrate", verbosity=0)
    from ecrf.accounts.services import user_create
    from ecrf.crf.services import form_create, participant_create, participant_mark_randomized
    from ecrf.dosing.specs import ADMINISTRATION
    from ecrf.study.models import Site

    tag = uuid.uuid4().hex[:6]
    site = Site.objects.create(code=f"B{tag}", name="Bench", country="GR", time_zone="Europe/Athens")
    user, _ = user_create(actor=None, username=f"bench-{tag}", roles=["coordinator"], site_codes=[site.code],
                          password="Correct-Horse-Battery-9")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=16)

    def participant(n: int):  # noqa: ANN202
        from django.db import transaction

        p = participant_create(actor=user, site=site, screening_number=f"S{n}")
        with transaction.atomic():
            return participant_mark_randomized(participant=p, subject_id=f"{tag}-{n}", randomized_at=start, actor=user)

    service_ms: list[float] = []
    n, p = 0, None
    for i in range(args.n):
        dose = i % 45 + 1
        if dose == 1:
            n += 1
            p = participant(n)
        data = {"route": "iv", "dose_number": dose, "given": True, "started_at": start + dt.timedelta(minutes=10, hours=8 * (dose - 1)),
                "duration_minutes": 30, "volume_ml": "20"}
        t0 = time.perf_counter()
        form_create(actor=user, spec=ADMINISTRATION, participant=p, data=data, submit=True)
        service_ms.append((time.perf_counter() - t0) * 1000)

    client = APIClient()
    client.force_authenticate(user)
    api_ms: list[float] = []
    for i in range(args.n):
        dose = i % 45 + 1
        if dose == 1:
            n += 1
            p = participant(n)
        body = {"participant": p.pk, "route": "iv", "dose_number": dose, "given": True, "submit": True,
                "started_at": (start + dt.timedelta(minutes=10, hours=8 * (dose - 1))).isoformat(),
                "duration_minutes": 30, "volume_ml": "20"}
        t0 = time.perf_counter()
        response = client.post("/api/v1/administrations/", body, format="json", secure=True)
        api_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 201, response.content

    def report(name: str, values: list[float]) -> None:
        q = statistics.quantiles(values, n=20)
        print(f"{name}: n={len(values)} median={statistics.median(values):.1f} ms p95={q[18]:.1f} ms")

    print(f"database: {connection.vendor}")
    report("administration save (service)", service_ms)
    report("administration save (API POST)", api_ms)


if __name__ == "__main__":
    main()
