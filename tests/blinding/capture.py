"""Recording what blinded users observe: every response (status, headers, body), every e-mail
and every inbox notification addressed to them.

A world is built and walked inside one transaction that is rolled back, after the sequences
have been reset, so each world starts from the same empty database and gets the same ids. The
clock is frozen (time-machine) and moved to the same instants in each world, and the random
sources Django uses for salts, session keys and CSRF tokens are seeded, so nothing is masked:
any difference between two worlds is something a blinded user can tell the arm by.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
import secrets
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import time_machine
from django.apps import apps
from django.core import mail
from django.core.management.color import no_style
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test import TestCase, override_settings
from rest_framework.test import APIClient

from ecrf.queries import services as queries_services
from ecrf.celery import app as celery_app
from ecrf.notifications.models import Notification
from ecrf.randomization import allocation
from ecrf.randomization.models import Assignment

_uuid4 = uuid.uuid4
# Headers that legitimately differ between any two requests (the wall clock and the session).
IGNORED_HEADERS = frozenset({"date", "set-cookie"})


@dataclasses.dataclass(frozen=True)
class Observed:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def text(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"status {self.status}\n{head}\n\n{self.body.decode('utf-8', errors='replace')}"


@dataclasses.dataclass
class Capture:
    arms: list[tuple[int, str]]
    responses: dict[str, Observed]
    mails: list[tuple[Any, ...]]
    notifications: list[tuple[Any, ...]]


def _observe(response: Any) -> Observed:
    headers = tuple(sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in IGNORED_HEADERS))
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return Observed(response.status_code, headers, body)


class Recorder:
    """Issues requests as users, one logged-in client per user, and records every response
    under a label; writes must succeed in the world where they are scripted."""

    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller
        self.responses: dict[str, Observed] = {}
        self.clients: dict[int, APIClient] = {}
        self.writes = 0

    def at(self, moment: dt.datetime) -> None:
        self.traveller.move_to(moment)
        self.clients.clear()  # sessions end after 30 idle minutes: log in again after a move

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Run what a commit would have started (outbox delivery, endpoint derivation, the
        safety contact's e-mail): each world is one rolled-back transaction."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield

    def client(self, user: Any) -> APIClient:
        client = self.clients.get(user.pk)
        if client is None:
            client = self.clients[user.pk] = APIClient()
            client.force_login(user)
        return client

    def request(self, user: Any, method: str, url: str, data: Any = None, *, api: bool, fmt: str = "json") -> Any:
        client = self.client(user)
        with self.step():
            if api:
                return getattr(client, method)(url, data if data is not None else None, format=fmt)
            return getattr(client, method)(url, data or {})

    def record(self, key: str, response: Any) -> Observed:
        observed = self.responses[key] = _observe(response)
        return observed

    def api(self, user: Any, method: str, url: str, data: Any = None, *, label: str, fmt: str = "json") -> Any:
        response = self.request(user, method, url, data, api=True, fmt=fmt)
        self.writes += 1
        self.record(f"write {self.writes:03d} {label} {method} {user.username} {url}", response)
        assert response.status_code < 300, f"{label}: {method} {url} gave {response.status_code}: {response.content[:600]!r}"
        return json.loads(response.content) if response.content else None

    def page(self, user: Any, method: str, url: str, data: Any = None, *, label: str) -> Any:
        response = self.request(user, method, url, data, api=False)
        self.writes += 1
        key = f"write {self.writes:03d} {label} {method} {user.username} {url}"
        self.record(key, response)
        assert response.status_code < 400, f"{label}: {method} {url} gave {response.status_code}: {response.content[:600]!r}"
        if method == "post":
            assert response.status_code == 302, f"{label}: {url} did not redirect: {response.content[:2000]!r}"
            # The page after the redirect shows the success message.
            self.record(f"{key} -> {response['Location']}", self.request(user, "get", response["Location"], api=False))
        return response


def _swap(slots: list[allocation.Slot]) -> list[allocation.Slot]:
    return [dataclasses.replace(s, arm="placebo" if s.arm == "active" else "active") for s in slots]


def _reset_sequences() -> None:
    # PostgreSQL sequences are not transactional: restart each at max(id) + 1, so that both worlds
    # get the same ids (SQLite's sqlite_sequence rolls back with the transaction).
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _row(obj: Any) -> tuple[Any, ...]:
    return tuple(sorted((k, repr(v)) for k, v in model_to_dict(obj).items())) + (("id", obj.pk),)


def capture(*, swap: bool, build: Callable[[Recorder], Any], walk: Callable[[Recorder, Any], None],
            plant: Callable[[Any], contextlib.AbstractContextManager[Any]] | None = None) -> Capture:
    """Build one world (arms swapped or not), walk it, and record what blinded users observe.
    ``plant`` (the test of the test) wraps the build and walk with a deliberate leak."""
    from _pytest.monkeypatch import MonkeyPatch

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with (contextlib.ExitStack() as stack, transaction.atomic(), MonkeyPatch.context() as m,
          time_machine.travel(start, tick=False) as traveller):
        _reset_sequences()
        # Seeded randomness where Django draws it (salts, session keys, CSRF tokens).
        from django.utils import crypto

        m.setattr(crypto, "secrets", SimpleNamespace(choice=random.Random(20260301).choice,
                                                     compare_digest=secrets.compare_digest))
        # Seeded UUIDs (the notifications' public ids): uuid4 is called through the module and
        # is the default of every UUID field that has it.
        uuids = random.Random(20260302)

        def uuid4() -> uuid.UUID:
            return uuid.UUID(int=uuids.getrandbits(128), version=4)

        m.setattr(uuid, "uuid4", uuid4)
        for model in apps.get_models():
            for f in model._meta.concrete_fields:
                if f.default is _uuid4:
                    m.setattr(f, "default", uuid4)
        # Sessions in signed cookies rather than in the database: a session row written on every
        # request (the idle timeout saves it each time) is most of a request's queries, and
        # nothing a user observes of it is compared (Set-Cookie is not).
        stack.enter_context(override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"))
        m.setitem(celery_app.conf, "task_always_eager", True)
        m.setitem(celery_app.conf, "task_eager_propagates", True)
        # The after-save edit-check runs are left to the sweep that the world runs before the walk:
        # run eagerly after every write, they ran every check for the participant hundreds of
        # times and made most of the world's cost. The sweep writes the queries that are open at
        # the walk (the rules are set-based and idempotent), and the walk compares those.
        m.setattr(queries_services, "_enqueue_participant", lambda participant_id: None)
        if swap:
            generate, parse = allocation.generate_allocation_list, allocation.parse_allocation_csv
            m.setattr(allocation, "generate_allocation_list", lambda *a, **k: _swap(generate(*a, **k)))
            m.setattr(allocation, "parse_allocation_csv", lambda *a, **k: _swap(parse(*a, **k)))
        mail.outbox = []
        rec = Recorder(traveller)
        with plant(m) if plant else contextlib.nullcontext():
            world = build(rec)
            walk(rec, world)
        arms = list(Assignment.objects.order_by("participant_id").values_list("participant_id", "slot__arm"))
        blinded_ids = set(type(world.viewers[next(iter(world.viewers))]).objects.exclude(
            pk__in=[u.pk for u in world.unblinded_users]).values_list("pk", flat=True))
        notifications = [_row(n) for n in Notification.objects.filter(recipient_id__in=blinded_ids).order_by("pk")]
        mails = []
        for n, message in enumerate(mail.outbox):
            for address in (*message.to, *message.cc, *message.bcc):
                if address not in world.unblinded_emails:
                    mails.append((n, address, message.from_email, message.subject, message.body,
                                  repr(getattr(message, "alternatives", [])), repr(message.extra_headers),
                                  repr(message.attachments)))
        transaction.set_rollback(True)
    return Capture(arms=arms, responses=rec.responses, mails=mails, notifications=notifications)


def differences(a: Capture, b: Capture) -> dict[str, str]:
    """Every observable difference: what was observed (request key, or e-mails, notifications)
    -> a unified diff of the two observations."""
    import difflib

    def diff(x: list[str], y: list[str]) -> str:
        return "\n".join(list(difflib.unified_diff(x, y, lineterm="", n=0))[2:])

    found: dict[str, str] = {}
    for key in sorted(a.responses.keys() ^ b.responses.keys()):
        found[key] = "requested in one world only"
    for key in sorted(a.responses.keys() & b.responses.keys()):
        if a.responses[key] != b.responses[key]:
            found[key] = diff(a.responses[key].text().splitlines(), b.responses[key].text().splitlines())
    for what, x, y in (("e-mails to blinded users", a.mails, b.mails),
                       ("notifications to blinded users", a.notifications, b.notifications)):
        if x != y:
            found[what] = diff([repr(r) for r in x], [repr(r) for r in y])
    return found
