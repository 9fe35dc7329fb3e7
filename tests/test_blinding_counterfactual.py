"""Counterfactual blinding test (ARCHITECTURE.md invariant 6).

Two worlds are built by the same sequence of operations from the same empty database, with the
clock frozen at the same instants; they differ only in the allocation list, generated with
active and placebo exchanged, so every arm and everything that follows from an arm (what the
pharmacist prepared, pharmacovigilance's SUSAR decisions) is swapped. Blinded site staff, the
central laboratory and the safety officers write through the endpoints while the worlds are
built (randomizing, creating and submitting every form, the SAE and SUSAR path to a fatal
outcome, adjudication). Then every blinded role requests every URL pattern of the URL conf,
with every argument filled from the world's objects (tests/blinding/walk.py).

Nothing is masked: status, headers (less Date and Set-Cookie), body, redirect target, every
e-mail and every inbox notification addressed to a blinded user must be identical, ids and
times included. Only the users entitled to an arm are left out: the pharmacists, the
statistician, pharmacovigilance, the DSMB, and the investigator who emergency-unblinded one
participant (a separate user, so the investigator role is still walked).

The second test is the test of this test: it plants leaks one at a time and checks that the
comparison catches each of them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from ecrf.accounts.roles import STAFF_ROLES
from tests.blinding import walk as walker
from tests.blinding.capture import Capture, Recorder, capture, differences
from tests.blinding.world import BLINDED_ROLES, World, build_world

# The worlds are built in the module's shared fixture, each in its own rolled-back transaction.
# CI runs pytest-xdist with --dist loadfile: one process runs the whole module, so the worlds are
# built once.
pytestmark = [pytest.mark.django_db, pytest.mark.exhaustive]


def walk_everything(rec: Recorder, world: World, only: Callable[[str], bool] = lambda name: True) -> None:
    urls = walker.urls()
    for role in BLINDED_ROLES:
        user = world.viewers[role]
        seen: set[str] = set()
        for name, url in urls:
            # The admin refuses users without a staff role before reading anything (a redirect
            # to its login): those roles request each admin pattern once, the staff roles all.
            if name.startswith("admin:") and role not in STAFF_ROLES:
                if name in seen:
                    continue
                seen.add(name)
            if only(name):
                api = url.startswith("/api/")
                rec.record(f"GET {role} {name} {url}", rec.request(user, "get", url, api=api))


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker) -> tuple[Capture, Capture]:
    with django_db_blocker.unblock():
        return (capture(swap=False, build=build_world, walk=walk_everything),
                capture(swap=True, build=build_world, walk=walk_everything))


def test_blinded_users_observe_the_same_whatever_the_arms(worlds):
    world, swapped = worlds
    # The worlds really differ in every arm, of both phenotypes.
    assert [p for p, _ in world.arms] == [p for p, _ in swapped.arms] and len(world.arms) == 6
    assert all(a != b for (_, a), (_, b) in zip(world.arms, swapped.arms, strict=True))
    found = differences(world, swapped)
    shown = [f"{key}\n" + "\n".join(diff.splitlines()[:14]) for key, diff in list(found.items())[:12]]
    assert not found, f"{len(found)} observations differ with the arms:\n\n" + "\n\n".join(shown)
    # The walk really rendered pages and data: not a wall of refusals.
    ok = [k for k, o in world.responses.items() if k.startswith("GET ") and o.status == 200]
    assert len(ok) > 1000, len(ok)
    assert any(b"A-001" in o.body for o in world.responses.values())
    # The pages a query parameter opens were walked too (the signing page of one form, signed).
    assert any(k.startswith("GET investigator review:sign ") and "?form_slug=" in k and o.status == 200
               and b'data-testid="signature"' in o.body for k, o in world.responses.items())
    assert world.mails and world.notifications


# --- the test of the test ------------------------------------------------------------------


def _arm(participant_id: Any) -> str:
    from ecrf.randomization.models import Assignment

    a = Assignment.objects.filter(participant_id=participant_id).select_related("slot").first()
    return a.slot.arm if a else ""


def _wrap_response(m: pytest.MonkeyPatch, owner: Any, method: str, change: Callable[[Any, Any, Any], None]) -> None:
    original = getattr(owner, method)

    def wrapped(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(self, request, *args, **kwargs)
        change(self, response, kwargs)
        return response

    m.setattr(owner, method, wrapped)


def _participant_api() -> Any:
    from ecrf.crf.api import ParticipantViewSet

    return ParticipantViewSet


@contextlib.contextmanager
def plant_digest(m: pytest.MonkeyPatch) -> Iterator[None]:
    def change(view: Any, response: Any, kwargs: Any) -> None:
        pk = kwargs.get("pk")
        response.data["digest"] = hashlib.sha256(f"{pk}:{_arm(pk)}".encode()).hexdigest()

    _wrap_response(m, _participant_api(), "retrieve", change)
    yield


@contextlib.contextmanager
def plant_date(m: pytest.MonkeyPatch) -> Iterator[None]:
    import datetime as dt

    def change(view: Any, response: Any, kwargs: Any) -> None:
        pk = kwargs.get("pk")
        if _arm(pk) == "active" and response.data.get("randomized_at"):
            at = dt.datetime.fromisoformat(response.data["randomized_at"].replace("Z", "+00:00"))
            response.data["randomized_at"] = (at + dt.timedelta(seconds=1)).isoformat()

    _wrap_response(m, _participant_api(), "retrieve", change)
    yield


@contextlib.contextmanager
def plant_header(m: pytest.MonkeyPatch) -> Iterator[None]:
    def change(view: Any, response: Any, kwargs: Any) -> None:
        response["X-Allocation"] = _arm(kwargs.get("pk"))

    _wrap_response(m, _participant_api(), "retrieve", change)
    yield


def _viewset(url_name: str) -> Any:
    return next(p.callback.cls for p in walker.patterns() if p.name == url_name)


@contextlib.contextmanager
def plant_administration_arm(m: pytest.MonkeyPatch) -> Iterator[None]:
    from ecrf.dosing.models import Administration

    def change(view: Any, response: Any, kwargs: Any) -> None:
        response.data["arm"] = _arm(Administration.objects.get(pk=kwargs["pk"]).participant_id)

    _wrap_response(m, _viewset("administrations-detail"), "retrieve", change)
    yield


@contextlib.contextmanager
def plant_endpoint_arm(m: pytest.MonkeyPatch) -> Iterator[None]:
    from ecrf.sofa.api import SofaEndpointViewSet

    def change(view: Any, response: Any, kwargs: Any) -> None:
        response.data["arm"] = _arm(kwargs.get("participant"))

    _wrap_response(m, SofaEndpointViewSet, "retrieve", change)
    yield


@contextlib.contextmanager
def plant_randomize_message(m: pytest.MonkeyPatch) -> Iterator[None]:
    from ecrf.randomization import views

    original = views.messages.success

    def success(request: Any, message: str, *args: Any, **kwargs: Any) -> None:
        match = request.resolver_match
        if match.view_name == "randomization:randomize":
            message = f"{message} ({_arm(match.kwargs['pk'])})"
        original(request, message, *args, **kwargs)

    m.setattr(views.messages, "success", success)
    yield


@contextlib.contextmanager
def plant_clock_gap(m: pytest.MonkeyPatch) -> Iterator[None]:
    """A fatal SUSAR decided by its arm takes an id from the sequence of the clocks blinded
    users list, in the active-arm world only (whether or not such a clock still exists)."""
    from safety.models import Clock
    from safety.services import ae as services

    original = services._susar_became_fatal

    def became_fatal(ae: Any, actor: Any) -> None:
        original(ae, actor)
        if ae.fatal_or_life_threatening and _arm(ae.participant_id) == "active":
            table = Clock._meta.db_table
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
                else:
                    cursor.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = %s", [table])

    m.setattr(services, "_susar_became_fatal", became_fatal)
    yield


# Each leak: how to plant it, and how its difference shows (request key, diff -> caught).
PLANTS: dict[str, tuple[Callable[[pytest.MonkeyPatch], Any], Callable[[str, str], bool]]] = {
    "participant API returns sha256(pk:arm)": (plant_digest, lambda k, d: " participant-detail " in k and '"digest"' in d),
    "participant API date depends on the arm": (plant_date, lambda k, d: " participant-detail " in k and "randomized_at" in d),
    "participant API sends an X-Allocation header": (plant_header, lambda k, d: "x-allocation" in d),
    "administrations API returns the arm": (plant_administration_arm,
                                            lambda k, d: " administrations-detail " in k and '"arm"' in d),
    "SOFA endpoint API returns the arm": (plant_endpoint_arm, lambda k, d: " sofa-endpoint-detail " in k and '"arm"' in d),
    "randomize success message names the arm": (plant_randomize_message,
                                                 lambda k, d: "randomize (page)" in k and ("(active)" in d or "(placebo)" in d)),
    "clock-id gap after a fatal SUSAR": (plant_clock_gap, lambda k, d: " clocks-" in k or " safety:clock-board " in k),
}
# The re-capture walks only the URLs the planted leaks touch (the scripted writes always run).
PLANTED_URLS = {"participant-detail", "administrations-detail", "sofa-endpoint-detail", "clocks-list", "clocks-detail",
                "safety:clock-board"}


@pytest.fixture(scope="module")
def planted(worlds, django_db_blocker) -> dict[str, str]:
    """All leaks planted at once in a second pair of worlds: the differences that the leaks add
    to those of the shared worlds (each leak shows in its own request or field)."""
    @contextlib.contextmanager
    def plant_all(m: pytest.MonkeyPatch) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for plant, _ in PLANTS.values():
                stack.enter_context(plant(m))
            yield

    def restricted(rec: Recorder, world: World) -> None:
        walk_everything(rec, world, lambda name: name in PLANTED_URLS)

    with django_db_blocker.unblock():
        leaky = [capture(swap=swap, build=build_world, walk=restricted, plant=plant_all) for swap in (False, True)]
    unplanted = [Capture(c.arms, {k: v for k, v in c.responses.items() if k in leaky[0].responses}, c.mails, c.notifications)
                 for c in worlds]
    before = differences(*unplanted)
    return {key: diff for key, diff in differences(*leaky).items() if before.get(key) != diff}


@pytest.mark.parametrize("leak", list(PLANTS))
def test_the_counterfactual_comparison_catches_a_planted_leak(planted, leak):
    _, caught = PLANTS[leak]
    assert any(caught(key, diff) for key, diff in planted.items()), (
        f"the planted leak ({leak}) went unnoticed; new differences: {list(planted)[:20]}")
