"""Open-loop load test: gunicorn + PostgreSQL + Redis + a Celery worker with beat, on loopback.

Usage (the database must hold a synthetic trial: ``manage.py generate_trial --participants N``):

    DATABASE_URL=postgresql://… CELERY_BROKER_URL=redis://127.0.0.1:PORT/0 SECRET_KEY=… \\
    AUDIT_HMAC_KEY=<32+ characters> .venv/bin/python benchmarks/load.py --rate 50 --duration 60

What it does, bounded in time and in count (``--duration`` seconds, at most ``--max-requests``):
1. starts gunicorn (``--workers`` processes of ``--threads`` threads) on 127.0.0.1 and one Celery worker with beat
   (``-B``: the outbox delivery, the reporting clocks, the missed-dose sweep and the audit
   verification run on their schedule during the test; saves enqueue their after-commit work);
2. logs the demo role accounts in through the login page (session and CSRF cookies, as a browser);
3. sends operations at Poisson arrivals of ``--rate`` per second, OPEN loop: an arrival is sent at
   its time whether or not earlier ones have answered, so a slow server meets a growing queue,
   as it would with real users. The mix (``MIX``): site staff save SOFA days and correct
   administrations through the API (each a GET of the form, then a PATCH with the version read
   and a reason), read casebooks, participant pages and schedules at every site; monitors and
   data managers read the participant list, the query list and their home page;
4. then, with ``--saturate S``, a closed-loop phase: ``--clients`` concurrent clients send the
   same mix back to back for S seconds; completed requests per second divided by the cores is
   the saturation throughput per core.

Prints per request kind and overall: count, errors, p50 / p95 / p99 in milliseconds (measured
from the scheduled arrival for the first request of an operation, so a queue in the client is
counted, not hidden). Any answer other than the expected status is an error and is printed.
The load generator runs on the same cores as the server: read the figures as a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import http.cookies
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_PASSWORD = "Demo-Password-2026!"  # ecrf/study/synthetic.py: the demo accounts' password
# Loopback behind a TLS-terminating proxy, as in production: the proxy's header marks the request
# secure (SECURE_PROXY_SSL_HEADER), so secure cookies and the HTTPS redirect behave as deployed.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

# (operation, weight): about one write in five, as in a unit where nurses chart and monitors read.
MIX = (
    ("sofa_save", 10),
    ("administration_save", 10),
    ("casebook_page", 18),
    ("participant_page", 7),
    ("schedule_api", 15),
    ("participant_list_api", 20),
    ("query_list_api", 10),
    ("home_page", 10),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_env() -> None:
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "AUDIT_HMAC_KEY"):
        if not os.environ.get(name):
            sys.exit(f"{name} must be set (see the module docstring).")
    if not os.environ["DATABASE_URL"].startswith("postgresql://"):
        sys.exit("The load test runs against PostgreSQL (DATABASE_URL=postgresql://…).")
    host = os.environ["CELERY_BROKER_URL"].split("//", 1)[-1].split(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("The load test stays on loopback: CELERY_BROKER_URL must be a Redis on 127.0.0.1.")


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("LOG_LEVEL", "WARNING")
    env["DJANGO_SETTINGS_MODULE"] = "ecrf.settings"
    return env


class Processes:
    """The server processes of one run; stopped (process group by process group) on exit."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="ecrf-load-"))

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the process's life
        proc = subprocess.Popen(args, cwd=ROOT, env=server_env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def gunicorn(self, name: str, port: int, workers: int, threads: int = 4) -> None:
        # Threaded workers (gthread): a slow or idle client connection holds a thread, not the
        # whole worker, which a sync worker would kill after --timeout with "no URI read".
        self.start(name, [PYTHON, "-m", "gunicorn", "ecrf.wsgi:application", "--bind", f"127.0.0.1:{port}",
                          "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
                          "--timeout", "60", "--graceful-timeout", "5"])

    def celery(self, name: str, *, beat: bool) -> None:
        args = [PYTHON, "-m", "celery", "-A", "ecrf", "worker", "--pool=solo", "--without-gossip",
                "--without-mingle", "-n", f"{name}@%h", "--loglevel", "WARNING"]
        if beat:
            args += ["-B", "--schedule", str(self.tmp / "beat-schedule")]
        self.start(name, args)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.tmp / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                print(f"{name} did not stop on SIGTERM; killed", file=sys.stderr)


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=PROXY_HEADERS, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class Session:
    """One logged-in user: its own cookies (kept by hand, since the secure cookies would not be
    sent back over loopback HTTP by a cookie jar) and its CSRF token."""

    def __init__(self, client: httpx.AsyncClient, username: str) -> None:
        self.client, self.username = client, username
        self.cookies: dict[str, str] = {}
        # Django's CSRF check of a secure request wants a same-origin Referer (host and port).
        url = client.base_url
        self.origin = f"https://{url.host}:{url.port}/"

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(PROXY_HEADERS)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if extra:
            headers.update(extra)
        return headers

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        extra = kwargs.pop("headers", None) or {}
        if method != "GET" and "csrftoken" in self.cookies:
            extra = {"X-CSRFToken": self.cookies["csrftoken"], "Referer": self.origin,
                     **extra}
        response = await self.client.request(method, path, headers=self._headers(extra), **kwargs)
        self._keep(response)
        return response

    async def login(self) -> None:
        page = await self.request("GET", "/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code != 200 or not match:
            raise RuntimeError(f"login page for {self.username}: {page.status_code}")
        response = await self.request("POST", "/accounts/login/", data={
            "username": self.username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": match.group(1)})
        if response.status_code != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {self.username} refused ({response.status_code}); "
                               "is the database built with generate_trial?")


@dataclasses.dataclass
class World:
    """What the mix works on, read once from the database before the run."""

    sites: list[str]
    participants: dict[str, list[int]]  # site code -> randomized participant ids
    sofa: dict[int, list[int]]  # participant -> its SOFA day form ids
    administrations: dict[int, list[int]]  # participant -> its administration form ids


def load_world(limit_per_site: int = 400) -> World:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecrf.settings")
    import django

    django.setup()
    from ecrf.crf.models import EntryStatus, LockScope, Participant
    from ecrf.dosing.models import Administration
    from ecrf.sofa.models import SofaDay
    from ecrf.study.models import Site

    sites = sorted(Site.objects.values_list("code", flat=True))
    participants: dict[str, list[int]] = {}
    for code in sites:
        participants[code] = list(Participant.objects.filter(site__code=code, randomized_at__isnull=False)
                                  .order_by("pk").values_list("pk", flat=True)[:limit_per_site])
    # Saves go to forms that may change: none under a freeze or lock (the guard would refuse them).
    scoped = LockScope.objects.filter(released_at__isnull=True)
    closed_sites = set(scoped.exclude(site=None).values_list("site__code", flat=True))
    closed = set(scoped.exclude(participant=None).values_list("participant", flat=True))
    if scoped.filter(site=None, participant=None).exclude(level="form").exists():
        sys.exit("The study is frozen or locked: no form can be saved.")
    chosen = [pk for code, pks in participants.items() if code not in closed_sites for pk in pks if pk not in closed]
    sofa: dict[int, list[int]] = defaultdict(list)
    for pk, participant in (SofaDay.objects.filter(participant__in=chosen, status=EntryStatus.SUBMITTED,
                                                   platelets__isnull=False).values_list("pk", "participant")):
        sofa[participant].append(pk)
    administrations: dict[int, list[int]] = defaultdict(list)
    for pk, participant in (Administration.objects.filter(participant__in=chosen, status=EntryStatus.SUBMITTED,
                                                          given=True, duration_minutes__isnull=False)
                            .values_list("pk", "participant")):
        administrations[participant].append(pk)
    from django.db import connections

    connections.close_all()
    if not any(participants.values()):
        sys.exit("No randomized participant: build the trial first (manage.py generate_trial --participants N).")
    return World(sites, participants, dict(sofa), dict(administrations))


@dataclasses.dataclass
class Result:
    kind: str
    ms: float
    ok: bool
    detail: str = ""


class Load:
    def __init__(self, base_url: str, world: World, rng: random.Random) -> None:
        self.base_url, self.world, self.rng = base_url, world, rng
        self.results: list[Result] = []
        self.busy: set[int] = set()  # participants with a write in flight (one editor at a time)
        self.sessions: dict[str, Session] = {}
        self.client: httpx.AsyncClient | None = None
        self.ops = [name for name, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    async def open(self, client: httpx.AsyncClient) -> None:
        self.client = client
        names = ["data_manager"]
        for site in self.world.sites:
            names += [f"coordinator_{site.lower()}", f"investigator_{site.lower()}", f"monitor_{site.lower()}"]
        for name in names:
            session = Session(client, name)
            await session.login()
            self.sessions[name] = session

    def staff(self, site: str) -> Session:
        return self.sessions[f"{self.rng.choice(('coordinator', 'investigator'))}_{site.lower()}"]

    def participant(self, *, free: bool = False, has: dict[int, list[int]] | None = None) -> tuple[str, int] | None:
        for _ in range(20):
            site = self.rng.choice(self.world.sites)
            pool = self.world.participants.get(site) or []
            if not pool:
                continue
            pk = self.rng.choice(pool)
            if free and pk in self.busy:
                continue
            if has is not None and not has.get(pk):
                continue
            return site, pk
        return None

    async def timed(self, kind: str, session: Session, method: str, path: str, expect: int, *,
                    since: float | None = None, **kwargs: Any) -> httpx.Response | None:
        start = since if since is not None else time.perf_counter()
        try:
            response = await session.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.results.append(Result(kind, (time.perf_counter() - start) * 1000, False, f"{type(exc).__name__}: {exc}"))
            return None
        ms = (time.perf_counter() - start) * 1000
        ok = response.status_code == expect
        self.results.append(Result(kind, ms, ok, "" if ok else f"{method} {path} -> {response.status_code} "
                                                              f"{response.text[:200]}"))
        return response if ok else None

    async def operation(self, op: str, since: float) -> None:
        rng = self.rng
        if op in ("sofa_save", "administration_save"):
            forms = self.world.sofa if op == "sofa_save" else self.world.administrations
            picked = self.participant(free=True, has=forms)
            if picked is None:  # every participant is being edited: read instead
                op = "casebook_page"
            else:
                site, pk = picked
                self.busy.add(pk)
                try:
                    await self.save(op, self.staff(site), rng.choice(forms[pk]), since)
                finally:
                    self.busy.discard(pk)
                return
        picked = self.participant()
        site, pk = picked if picked else (self.world.sites[0], 0)
        if op == "casebook_page":
            await self.timed(op, self.staff(site), "GET", f"/participants/{pk}/casebook/", 200, since=since)
        elif op == "participant_page":
            await self.timed(op, self.staff(site), "GET", f"/participants/{pk}/", 200, since=since)
        elif op == "schedule_api":
            await self.timed(op, self.staff(site), "GET", f"/api/v1/participants/{pk}/schedule/", 200, since=since)
        elif op == "participant_list_api":
            session = self.sessions[rng.choice(("data_manager", f"monitor_{site.lower()}"))]
            page = rng.randint(1, max(1, len(self.world.participants[site]) // 50))
            await self.timed(op, session, "GET", f"/api/v1/participants/?site={site}&page={page}", 200, since=since)
        elif op == "query_list_api":
            session = self.sessions[rng.choice(("data_manager", f"monitor_{site.lower()}"))]
            await self.timed(op, session, "GET", "/api/v1/queries/?state=open", 200, since=since)
        elif op == "home_page":
            session = self.sessions[rng.choice(("data_manager", f"monitor_{site.lower()}", f"coordinator_{site.lower()}"))]
            await self.timed(op, session, "GET", "/", 200, since=since)

    async def save(self, op: str, session: Session, form_id: int, since: float) -> None:
        """Open the form, change one value, save it with the version read and a reason."""
        slug = "sofa" if op == "sofa_save" else "administrations"
        read = await self.timed(f"{op}:get", session, "GET", f"/api/v1/{slug}/{form_id}/", 200, since=since)
        if read is None:
            return
        body = read.json()
        if op == "sofa_save":
            change = {"platelets": str(int(float(body["platelets"])) + (1 if self.rng.random() < 0.5 else -1) or 1)}
        else:
            minutes = body["duration_minutes"]
            change = {"duration_minutes": minutes + 1 if minutes < 40 else minutes - 1}
        await self.timed(f"{op}:patch", session, "PATCH", f"/api/v1/{slug}/{form_id}/", 200,
                         json={"expected_version": body["version"], "reason": "Load test: corrected from the chart",
                               **change})

    async def open_loop(self, rate: float, duration: float, max_requests: int, drain: float) -> float:
        """Poisson arrivals at ``rate`` per second for ``duration`` seconds; returns the worst lag
        between an arrival's time and its start (the client's own delay). Operations still
        running ``drain`` seconds after the last arrival are cancelled and counted as errors
        (bounded in time even when the server cannot keep up)."""
        tasks: list[asyncio.Task] = []
        start = time.perf_counter()
        at, lag = 0.0, 0.0
        while len(tasks) < max_requests:
            at += self.rng.expovariate(rate)
            if at >= duration:
                break
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            scheduled = start + at
            lag = max(lag, time.perf_counter() - scheduled)
            op = self.rng.choices(self.ops, self.weights)[0]
            tasks.append(asyncio.create_task(self.operation(op, scheduled)))
        done, pending = await asyncio.wait(tasks, timeout=drain) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        for _ in pending:
            self.results.append(Result("unfinished", drain * 1000, False, f"still running {drain:g} s after the last arrival"))
        return lag

    async def closed_loop(self, clients: int, duration: float) -> None:
        end = time.perf_counter() + duration

        async def client() -> None:
            while time.perf_counter() < end:  # closed loop: bounded by the phase's end
                await self.operation(self.rng.choices(self.ops, self.weights)[0], time.perf_counter())

        await asyncio.gather(*(client() for _ in range(clients)))

    async def quiet(self, seconds: float) -> None:
        """Let the server finish what cancelled operations left it (before the next phase)."""
        await asyncio.sleep(seconds)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarise(title: str, results: list[Result], seconds: float) -> dict[str, float]:
    print(f"\n{title}")
    print(f"{'request':34} {'n':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    kinds = sorted({r.kind for r in results})
    for kind in [*kinds, "ALL"]:
        rows = results if kind == "ALL" else [r for r in results if r.kind == kind]
        ms = [r.ms for r in rows]
        errors = sum(not r.ok for r in rows)
        print(f"{kind:34} {len(rows):6d} {errors:6d} {percentile(ms, 50):8.1f} {percentile(ms, 95):8.1f} "
              f"{percentile(ms, 99):8.1f}")
    errors = [r for r in results if not r.ok]
    for r in errors[:10]:
        print(f"  error: {r.kind}: {r.detail}")
    ms = [r.ms for r in results]
    answered = [r for r in results if r.kind != "unfinished"]
    throughput = len(answered) / seconds if seconds else 0.0
    cores = os.cpu_count() or 1
    print(f"throughput: {throughput:.1f} requests/s over {seconds:.1f} s = {throughput / cores:.1f} requests/s per core "
          f"({cores} cores); errors: {len(errors)}; mean {statistics.fmean(ms) if ms else 0:.1f} ms")
    return {"p95": percentile(ms, 95), "errors": len(errors), "throughput": throughput}


async def run(args: argparse.Namespace, base_url: str, world: World) -> int:
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=args.max_connections, max_keepalive_connections=args.max_connections)
    async with httpx.AsyncClient(base_url=base_url, timeout=args.timeout, limits=limits) as client:
        load = Load(base_url, world, rng)
        await load.open(client)
        if args.warmup:
            await load.open_loop(args.rate, args.warmup, args.max_requests, args.drain)
            load.results.clear()
        t0 = time.perf_counter()
        lag = await load.open_loop(args.rate, args.duration, args.max_requests, args.drain)
        elapsed = time.perf_counter() - t0
        open_results = list(load.results)
        figures = summarise(f"OPEN LOOP: Poisson arrivals at {args.rate:g} operations/s for {args.duration:g} s "
                            f"(worst client lag {lag * 1000:.0f} ms)", open_results, elapsed)
        if args.saturate:
            load.results.clear()
            await load.quiet(args.drain)
            t0 = time.perf_counter()
            await load.closed_loop(args.clients, args.saturate)
            summarise(f"SATURATION: {args.clients} closed-loop clients for {args.saturate:g} s",
                      load.results, time.perf_counter() - t0)
    ok = figures["errors"] == 0 and figures["p95"] < args.target_p95
    print(f"\nopen-loop p95 {figures['p95']:.1f} ms (target < {args.target_p95:g} ms), {figures['errors']} errors: "
          f"{'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="operation arrivals per second (open loop)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of open-loop load (bounded)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load first, not counted")
    parser.add_argument("--max-requests", type=int, default=20_000, help="cap on operations per phase")
    parser.add_argument("--saturate", type=float, default=0.0, help="seconds of closed-loop saturation after")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients in the saturation phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for the last operations")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    parser.add_argument("--max-connections", type=int, default=64)
    parser.add_argument("--target-p95", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="use a running server at this loopback URL instead of starting one")
    args = parser.parse_args()
    require_env()
    world = load_world()
    print(f"world: {len(world.sites)} sites, {sum(map(len, world.participants.values()))} randomized participants, "
          f"{sum(map(len, world.sofa.values()))} SOFA days, {sum(map(len, world.administrations.values()))} administrations")
    procs = Processes()
    try:
        if args.url:
            if not re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?/?$", args.url):
                sys.exit("--url must be a loopback address (http://127.0.0.1:PORT).")
            base_url = args.url.rstrip("/")
        else:
            port = free_port()
            procs.gunicorn("gunicorn", port, args.workers, args.threads)
            procs.celery("worker", beat=True)
            base_url = f"http://127.0.0.1:{port}"
            wait_http(f"{base_url}/accounts/login/")
            procs.check_alive()
        code = asyncio.run(run(args, base_url, world))
        procs.check_alive()
    finally:
        procs.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
