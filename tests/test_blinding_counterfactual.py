"""Counterfactual blinding test (DESIGN.md invariant 6; issue 4 "Done when").

Two worlds are built through the services, identical except that every arm is swapped (the
allocation list is generated with active and placebo exchanged, so everything downstream, such
as what the pharmacist prepared, follows the swapped arm). Every blinded role then requests every
URL pattern of the project (walked from the URL conf, with the permission matrix's rules for
method, body and URL arguments, so URLs added later by other apps are covered automatically), plus
every participant-scoped URL for every participant, and the responses must be byte-identical
after normalising times, hashes and CSRF tokens. Database ids are identical by construction:
each world starts from the same rolled-back state with the sequences reset.

The worlds contain randomized participants of both phenotypes at two sites, preparations, an
emergency unblinding (by another investigator), a pharmacovigilance SUSAR reveal, a lab
correction after randomization, and the notifications these produce.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management.color import no_style
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ecrf.accounts.roles import UNBLINDED_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.crf.services import form_update
from ecrf.pharmacy.services import preparation_record
from ecrf.pharmacy.supply import PharmacyPreparation
from ecrf.randomization import allocation
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from ecrf.randomization.unblinding import (
    participant_emergency_unblind,
    reveal_for_susar,
)
from ecrf.screening.models import CentralLabResult
from ecrf.screening.specs import CENTRAL_LAB
from ecrf.study.models import Site, Study
from ecrf.study.protocol import DEFAULT_PROTOCOL
from tests.permissions.matrix import Fixtures, load_entries, rule_lookup, walk_patterns
from tests.support.screening import eligible_participant

pytestmark = pytest.mark.django_db
PASSWORD = "Counterfactual-Password-9"
BLINDED_ROLES = [r for r in Role.values if r not in UNBLINDED_ROLES]
PARTICIPANT_ROUTE = re.compile(r"participants/(?:<int:pk>|\(\?P<pk>)")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_HASH = re.compile(r"\b[0-9A-Za-z]{64}\b")  # SHA-256 hex digests and CSRF tokens
_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_CLOCK = re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?\b")  # the admin's split date/time inputs
# Django's default human format ("Nov. 28, 2026, 4:39 a.m."), as the admin shows times.
_HUMAN = re.compile(r"(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}"
                    r"(?:, (?:\d{1,2}(?::\d{2})? [ap]\.m\.|noon|midnight))?")
_HOURS = re.compile(r"\b\d+ hours ago\b")
# Live countdowns depend on when each world was built (wall-clock time), not on the arm.
_COUNTDOWN = re.compile(r'("seconds_left":\s*)-?\d+|(data-seconds=")-?\d+(")')


def normalise(body: bytes) -> bytes:
    text = body.decode("utf-8", errors="replace")
    text = _CSRF.sub(r"\1<csrf>\2", text)
    text = _HASH.sub("<hash>", text)
    text = _TIME.sub("<time>", text)
    text = _CLOCK.sub("<clock>", text)
    text = _HUMAN.sub("<when>", text)
    text = _COUNTDOWN.sub(lambda m: (m.group(1) or m.group(2)) + "<n>" + (m.group(3) or ""), text)
    return _HOURS.sub("<n> hours ago", text).encode()


def _swap(slots: list[allocation.Slot]) -> list[allocation.Slot]:
    return [dataclasses.replace(s, arm="placebo" if s.arm == "active" else "active") for s in slots]


def _reset_sequences() -> None:
    # PostgreSQL sequences are not transactional: restart them at max(id) + 1, so that both worlds
    # get the same ids. (SQLite's sqlite_sequence rolls back with the savepoint.)
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _user(username: str, role: str, sites: list[Site]) -> Any:
    return user_create(actor=None, username=username, roles=[role], site_codes=[s.code for s in sites],
                       password=PASSWORD, email=f"{username}@example.org")[0]


def build_world() -> tuple[Fixtures, dict[str, Any], list[int]]:
    Study.objects.create(code="CF", title="Counterfactual", time_zone="Europe/Athens",
                         safety_contact_email="safety@example.org")
    site_a = Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")
    site_b = Site.objects.create(code="B", name="Site B", country="NL", time_zone="Europe/Amsterdam")
    viewers = {role: _user(f"view-{role}", role, [site_a] if role in {Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR,
                                                                      Role.PHARMACIST} else [])
               for role in Role.values}
    coord_a, coord_b = _user("coord-a", Role.COORDINATOR, [site_a]), _user("coord-b", Role.COORDINATOR, [site_b])
    lab_user = _user("lab-x", Role.LAB, [])
    unblinder = _user("inv-unblinder", Role.INVESTIGATOR, [site_a])
    pv = _user("pv-x", Role.PHARMACOVIGILANCE, [])
    pharm_a, pharm_b = _user("pharm-a", Role.PHARMACIST, [site_a]), _user("pharm-b", Role.PHARMACIST, [site_b])
    allocation_list_generate(actor=_user("stat-x", Role.STATISTICIAN, []), seed="cf-seed", slots_per_stratum=12)

    randomized = []
    for author, site, number, phenotype in ((coord_a, site_a, "A-1", "MALS"), (coord_a, site_a, "A-2", "immunoparalysis"),
                                            (coord_a, site_a, "A-3", "MALS"), (coord_b, site_b, "B-1", "MALS"),
                                            (coord_b, site_b, "B-2", "immunoparalysis")):
        p = eligible_participant(author, lab_user, site, number, phenotype)
        participant_randomize(actor=author, participant=p)
        p.refresh_from_db()
        randomized.append(p)
    eligible_participant(coord_a, lab_user, site_a, "A-4", "immunoparalysis")  # eligible, not randomized
    eligible_participant(coord_a, lab_user, site_a, "A-5", "neither")  # screen failure
    for p in randomized:
        pharmacist = pharm_a if p.site_id == site_a.pk else pharm_b
        a = Assignment.objects.select_related("slot").get(participant_id=p.pk)
        for req in PharmacyPreparation().requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=DEFAULT_PROTOCOL):
            preparation_record(actor=pharmacist, participant=p, route=req.route, product=req.product, lot=f"L-{req.route}")
    participant_emergency_unblind(actor=unblinder, participant=randomized[0], reason="Anaphylaxis", password=PASSWORD)
    reveal_for_susar(actor=pv, participant=randomized[1], reason="Potential SUSAR", password=PASSWORD)
    result = CentralLabResult.objects.get(participant=randomized[2])
    form_update(actor=lab_user, spec=CENTRAL_LAB, form=result, data={"ferritin": Decimal(700), "hla_dr": 1500},
                version=result.version, reason="Corrected after randomization")

    fx = Fixtures(sites={"own": site_a, "other": site_b})
    # Participant-scoped rules point at randomized participants: the emergency-unblinded one here.
    fx.add("participant", randomized[0], randomized[3])
    fx.add("author", coord_a, coord_b)
    _, builders, _ = load_entries()
    for build in builders:
        build(fx)
    from ecrf.crf.models import Participant

    return fx, viewers, list(Participant.objects.order_by("pk").values_list("pk", flat=True))


_CLIENTS: dict[int, APIClient] = {}


def _request(user: Any, method: str, url: str, data: Any, api: bool, fresh: bool = False) -> tuple[int, bytes]:
    # One logged-in client per user and world (a login per request would dominate the run);
    # a request that ends the session (logout) gets a client of its own.
    client = None if fresh else _CLIENTS.get(user.pk)
    if client is None:
        client = APIClient()
        client.force_login(user)
        if not fresh:
            _CLIENTS[user.pk] = client
    response = getattr(client, method)(url, data or {}, format="json") if api else getattr(client, method)(url, data or {})
    return response.status_code, normalise(response.content)


def walk(fx: Fixtures, viewers: dict[str, Any], participant_ids: list[int]) -> dict[str, tuple[int, bytes]]:
    rules, _, generic = load_entries()
    out: dict[str, tuple[int, bytes]] = {}
    patterns = walk_patterns()
    for name, route in patterns:
        if name.startswith("<unnamed:"):
            continue  # admin's redirect shims; their targets are walked by name
        variants = [(n, r) for n, r in rules.items() if n.split("#", 1)[0] == name] or [(name, rule_lookup(name, rules, generic))]
        for label, rule in variants:
            assert rule is not None, f"{name} has no permission-matrix rule"
            for role in BLINDED_ROLES:
                user = viewers[role]
                for where in (("own", "other") if rule.kwargs else ("own",)):
                    url = reverse(name, kwargs=rule.kwargs(fx, where, user) if rule.kwargs else None)
                    out[f"{label} {rule.method} {role} {where} {url}"] = _request(user, rule.method, url, rule.data, rule.api,
                                                                                  fresh=rule.ends_session)
    # Every participant-scoped GET URL, for every participant (history included).
    for name, route in patterns:
        arguments = route.count("<")  # one URL argument: the participant
        if name.startswith("<unnamed:") or not PARTICIPANT_ROUTE.search(route) or arguments != 1:
            continue
        rule = rule_lookup(name, rules, generic)
        if rule is None or rule.method != "get":
            continue
        for pk in participant_ids:
            for role in BLINDED_ROLES:
                url = reverse(name, kwargs={"pk": pk})
                out[f"all-participants {name} {role} {url}"] = _request(viewers[role], "get", url, None, rule.api)
    return out


def capture(swap: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, bytes]]:
    with transaction.atomic():
        _reset_sequences()
        with monkeypatch.context() as m:
            # Deterministic password hashes (the admin shows part of the salt).
            m.setattr(MD5PasswordHasher, "salt", lambda self: "counterfactualsalt")
            if swap:
                original_generate, original_parse = allocation.generate_allocation_list, allocation.parse_allocation_csv
                m.setattr(allocation, "generate_allocation_list", lambda *a, **k: _swap(original_generate(*a, **k)))
                m.setattr(allocation, "parse_allocation_csv", lambda *a, **k: _swap(original_parse(*a, **k)))
            _CLIENTS.clear()
            fx, viewers, participant_ids = build_world()
            arms = list(Assignment.objects.order_by("participant_id").values_list("participant_id", "slot__arm"))
            responses = walk(fx, viewers, participant_ids)
        responses["__arms__"] = (0, repr(arms).encode())
        transaction.set_rollback(True)
    return responses


def test_blinded_roles_get_identical_responses_when_every_arm_is_swapped(monkeypatch):
    start = timezone.now()
    world = capture(False, monkeypatch)
    swapped = capture(True, monkeypatch)
    # The worlds really differ in every arm, and in nothing else a blinded role can see.
    arms, arms_swapped = eval(world.pop("__arms__")[1]), eval(swapped.pop("__arms__")[1])
    assert [p for p, _ in arms] == [p for p, _ in arms_swapped] and arms
    assert all(a != b for (_, a), (_, b) in zip(arms, arms_swapped, strict=True))
    assert world.keys() == swapped.keys()
    differing = [key for key in world if world[key] != swapped[key]]
    if differing:
        import difflib

        first = differing[0]
        diff = "\n".join(list(difflib.unified_diff(world[first][1].decode(errors="replace").splitlines(),
                                                   swapped[first][1].decode(errors="replace").splitlines(),
                                                   lineterm="", n=1))[:40])
        pytest.fail(f"{len(differing)} responses differ by arm, e.g. {differing[:8]}\nstatus {world[first][0]} vs "
                    f"{swapped[first][0]}; first diff:\n{diff}")
    assert len(world) > 1000
    # Sanity: pages were actually rendered (not all refusals) and randomized participants appear.
    ok = [k for k, (status, _) in world.items() if status == 200]
    assert len(ok) > 300
    assert any(b"A-001" in body for _status, body in world.values())
    assert timezone.now() - start < dt.timedelta(minutes=20)
