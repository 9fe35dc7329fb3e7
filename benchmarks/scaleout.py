"""Scale-out on one machine: two web processes and two Celery workers against one PostgreSQL and
one Redis, as on several machines (README, "Operating it": scale-out).

Usage:

    DATABASE_URL=postgresql://… CELERY_BROKER_URL=redis://127.0.0.1:PORT/0 SECRET_KEY=… \\
    AUDIT_HMAC_KEY=<32+ characters> .venv/bin/python benchmarks/scaleout.py [--participants 40]

It creates a throw-away database (``test_<DB>``, dropped at the end), builds two sites, the role
accounts and ``--participants`` eligible participants through the services, then starts two
gunicorn processes (web A and web B, two workers each) and two Celery workers (worker 1 with the
one beat; ``--two-beats`` gives worker 2 a beat as well, the operator's mistake the jobs must
survive), and shows, exiting non-zero if any fails:

1. no duplicate allocation: every participant is randomized by concurrent POSTs sent alternately
   to web A and web B, a tenth of them through both at once; each participant holds exactly one
   slot, no slot serves two participants, and each stratum's slots are consecutive;
2. no duplicate notification: each randomization notifies the site's pharmacists through the
   outbox; the two workers deliver it (the on-commit task, the beat's sweep and extra sweeps sent
   to both workers at once race for the same rows); every notification is delivered and e-mailed
   exactly once (the e-mails are counted in the file backend's output);
3. no lost update: one administration per participant is edited through web A and web B at the
   same moment with the same version read; exactly one edit is saved, the other is refused with
   409 and the current version, and the history holds exactly the saved edit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email
import os
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.core.mail.backends import filebased

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from load import PROXY_HEADERS, Processes, free_port, require_env, wait_http  # noqa: E402

PASSWORD = "Scale-Out-Password-2026!"


class FileEmailBackend(filebased.EmailBackend):
    """Django's file backend, its folder from the environment (the settings read no
    ``EMAIL_FILE_PATH``): the workers' e-mails are counted there."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs["file_path"] = os.environ["SCALEOUT_MAIL_DIR"]
        super().__init__(*args, **kwargs)


def build(args: argparse.Namespace) -> dict:
    """Sites, accounts, an allocation list and eligible participants, through the services."""
    from ecrf.accounts.roles import Role
    from ecrf.accounts.services import user_create
    from ecrf.randomization.services import allocation_list_generate
    from ecrf.study.models import Site, Study
    from tests.support.screening import eligible_participant

    Study.objects.create(code=os.environ.get("ECRF_STUDY_CODE", "IMMUNOSEP-DEMO"), title="Scale-out check",
                         time_zone="Europe/Athens", safety_contact_email="safety@example.org")
    sites = [Site.objects.create(code=c, name=c, country="GR", time_zone="Europe/Athens") for c in ("SA", "SB")]
    statistician = user_create(actor=None, username="stat", roles=[Role.STATISTICIAN], password=PASSWORD)[0]
    lab = user_create(actor=None, username="lab", roles=[Role.LAB], password=PASSWORD)[0]
    tokens, coordinators = {}, {}
    for site in sites:
        user, token = user_create(actor=None, username=f"coord-{site.code}", roles=[Role.COORDINATOR],
                                  site_codes=[site.code], password=PASSWORD, with_token=True)
        coordinators[site.code], tokens[site.code] = user, token
        for n in range(2):
            user_create(actor=None, username=f"pharm{n}-{site.code}", roles=[Role.PHARMACIST], site_codes=[site.code],
                        password=PASSWORD, email=f"pharm{n}-{site.code.lower()}@example.org")
    allocation_list_generate(actor=statistician, seed="scaleout", slots_per_stratum=max(50, args.participants))
    people = []
    for n in range(args.participants):
        site = sites[n % 2]
        people.append((site.code, eligible_participant(coordinators[site.code], lab, site, f"SO-{n:04d}",
                                                       ("MALS", "immunoparalysis")[n // 2 % 2]).pk))
    return {"tokens": tokens, "people": people}


async def send(client: httpx.AsyncClient, base: str, token: str, method: str, path: str, **kw) -> httpx.Response:
    headers = {**PROXY_HEADERS, "Authorization": f"Token {token}"}
    return await client.request(method, f"{base}{path}", headers=headers, **kw)


async def randomize_all(webs: list[str], world: dict) -> Counter:
    """Every participant through web A or B alternately; every tenth through both at once."""
    codes: Counter = Counter()
    async with httpx.AsyncClient(timeout=60) as client:
        calls = []
        for i, (site, pk) in enumerate(world["people"]):
            token = world["tokens"][site]
            targets = webs if i % 10 == 0 else [webs[i % 2]]
            calls += [send(client, web, token, "POST", f"/api/v1/participants/{pk}/randomize/") for web in targets]
        for response in await asyncio.gather(*calls):
            codes[response.status_code] += 1
    return codes


async def race_edits(webs: list[str], world: dict) -> tuple[Counter, list[str]]:
    """One administration per participant, then two edits of it at once, one per web process."""
    problems: list[str] = []
    codes: Counter = Counter()
    async with httpx.AsyncClient(timeout=60) as client:
        forms = []
        for site, pk in world["people"]:
            token = world["tokens"][site]
            started = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
            created = await send(client, webs[0], token, "POST", "/api/v1/administrations/", json={
                "participant": pk, "route": "iv", "dose_number": 1, "given": True, "submit": True,
                "started_at": started, "duration_minutes": 30, "volume_ml": "20"})
            if created.status_code != 201:
                problems.append(f"administration for participant {pk}: {created.status_code} {created.text[:200]}")
                continue
            forms.append((token, created.json()))
        for token, form in forms:
            edits = [send(client, web, token, "PATCH", f"/api/v1/administrations/{form['id']}/",
                          json={"expected_version": form["version"], "duration_minutes": minutes,
                                "reason": f"Corrected through web {name}"})
                     for web, minutes, name in ((webs[0], 31, "A"), (webs[1], 32, "B"))]
            answers = await asyncio.gather(*edits)
            pair = sorted(r.status_code for r in answers)
            codes[tuple(pair)] += 1
            if pair != [200, 409]:
                problems.append(f"administration {form['id']}: the two edits answered {pair}")
                continue
            winner = next(r for r in answers if r.status_code == 200).json()
            refused = next(r for r in answers if r.status_code == 409).json()
            if refused.get("error", {}).get("code") is None:
                problems.append(f"administration {form['id']}: the refusal is not the JSON error format: {refused}")
            current = await send(client, webs[1], token, "GET", f"/api/v1/administrations/{form['id']}/")
            if current.json()["duration_minutes"] != winner["duration_minutes"]:
                problems.append(f"administration {form['id']}: the saved value is not the accepted edit's")
    return codes, problems


def count_emails(folder: Path) -> Counter:
    """(recipient, subject) of every e-mail the workers sent (Django's file backend)."""
    sent: Counter = Counter()
    for path in folder.glob("*.log"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                message = email.message_from_string(chunk.strip())
                sent[(message["To"], message["Subject"])] += 1
    return sent


def check(args: argparse.Namespace, world: dict, rand_codes: Counter, edit_codes: Counter, edit_problems: list[str],
          emails: Counter) -> list[str]:
    from django.db.models import Count

    from ecrf.dosing.models import Administration
    from ecrf.notifications.models import Notification
    from ecrf.randomization.models import Assignment

    failures = list(edit_problems)
    ids = [pk for _, pk in world["people"]]
    assignments = Assignment.objects.filter(participant__in=ids)
    per_participant = Counter(assignments.values_list("participant", flat=True))
    slots = list(assignments.values_list("slot", flat=True))
    print(f"1. randomize: answers {dict(rand_codes)}; {len(per_participant)} of {len(ids)} participants hold a slot, "
          f"{len(slots)} assignments, {len(set(slots))} distinct slots")
    if set(per_participant) != set(ids) or any(n != 1 for n in per_participant.values()):
        failures.append("a participant holds no slot or more than one")
    if len(slots) != len(set(slots)):
        failures.append("a slot serves two participants (duplicate allocation)")
    for key in assignments.values_list("stratum_key", flat=True).distinct():
        seqs = sorted(assignments.filter(stratum_key=key).values_list("slot__sequence", flat=True))
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            failures.append(f"stratum {key}: slots not consecutive {seqs}")
    if rand_codes.get(200) != len(ids) or set(rand_codes) - {200, 409}:
        failures.append(f"expected {len(ids)} x 200 and the rest 409, got {dict(rand_codes)}")

    notes = Notification.objects.filter(kind="preparation_due")
    duplicates = (notes.values("source", "recipient", "kind", "threshold").annotate(n=Count("pk")).filter(n__gt=1).count())
    undelivered = notes.filter(delivered_at__isnull=True).count()
    expected = {(n.recipient.email, n.subject) for n in notes.select_related("recipient")}
    twice = {k: v for k, v in emails.items() if v > 1}
    print(f"2. notifications: {notes.count()} outbox rows for {len(ids)} randomizations x 2 pharmacists; "
          f"{undelivered} undelivered; {sum(emails.values())} e-mails, {len(twice)} sent more than once; "
          f"{duplicates} duplicate outbox keys")
    if notes.count() != 2 * len(ids) or duplicates:
        failures.append("outbox rows are not one per randomization and pharmacist")
    if undelivered:
        failures.append(f"{undelivered} notifications never delivered")
    if twice or set(emails) != expected:
        failures.append(f"e-mails differ from the outbox: sent twice {list(twice)[:3]}, "
                        f"missing {list(expected - set(emails))[:3]}")

    forms = Administration.objects.filter(participant__in=ids)
    updates = Counter(Administration.history.filter(id__in=forms.values("pk"), history_type="~")
                      .values_list("id", flat=True))
    print(f"3. concurrent edits: answers per pair {dict(edit_codes)}; history rows per edited form "
          f"{dict(Counter(updates.values()))}")
    if len(updates) != forms.count() or any(n != 1 for n in updates.values()):
        failures.append("a form's history does not hold exactly the one accepted edit (lost or doubled update)")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per web process")
    parser.add_argument("--two-beats", action="store_true", help="also give worker 2 a beat (the mistake)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    require_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from celery import current_app
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgresql://… (the check is about concurrent processes on PostgreSQL).")
    t0 = time.perf_counter()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    procs = Processes()
    failures: list[str] = []
    try:
        world = build(args)
        print(f"built {test_db}: {args.participants} eligible participants in {time.perf_counter() - t0:.0f} s")
        connections.close_all()
        url = urlsplit(os.environ["DATABASE_URL"])
        os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{test_db}"))
        mail_dir = procs.tmp / "mail"
        mail_dir.mkdir()
        os.environ.update(EMAIL_BACKEND="benchmarks.scaleout.FileEmailBackend", SCALEOUT_MAIL_DIR=str(mail_dir))
        current_app.control.purge()  # tasks left in the queue by an earlier run name another database
        ports = [free_port(), free_port()]
        procs.gunicorn("web-a", ports[0], args.web_workers)
        procs.gunicorn("web-b", ports[1], args.web_workers)
        procs.celery("worker-1", beat=True)
        procs.celery("worker-2", beat=args.two_beats)
        webs = [f"http://127.0.0.1:{p}" for p in ports]
        for web in webs:
            wait_http(f"{web}/accounts/login/")
        procs.check_alive()
        rand_codes = asyncio.run(randomize_all(webs, world))
        # Both workers sweep the outbox at once, racing the on-commit deliveries.
        for _ in range(6):
            current_app.send_task("ecrf.notifications.tasks.deliver_pending")
        time.sleep(1)  # let the randomized_at instants pass before a dose is recorded after them
        edit_codes, edit_problems = asyncio.run(race_edits(webs, world))
        from ecrf.notifications.models import Notification

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and Notification.objects.filter(delivered_at__isnull=True).exists():
            time.sleep(1)
        for _ in range(4):  # sweeps after delivery must send nothing again
            current_app.send_task("ecrf.notifications.tasks.deliver_pending")
        time.sleep(5)
        procs.check_alive()
        failures = check(args, world, rand_codes, edit_codes, edit_problems, count_emails(mail_dir))
    finally:
        procs.stop()
        connections.close_all()
        if not args.keep_db:
            connection.creation.destroy_test_db(test_db, verbosity=0)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("two web processes, two workers: " + ("no duplicate allocation, no duplicate notification, no lost update"
                                               if not failures else f"{len(failures)} failures"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
