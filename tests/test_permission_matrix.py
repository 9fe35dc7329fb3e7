"""Every URL x every role x own / other site: the outcome each gets (DESIGN.md "Roles")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from ecrf.accounts.roles import Role
from tests.permissions.matrix import ALL_ROLES, Fixtures, load_entries, rule_lookup, walk_patterns

pytestmark = pytest.mark.django_db


def _base_name(name: str) -> str:
    return name.split("#", 1)[0]


def test_every_url_has_a_rule():
    rules, _, generic = load_entries()
    missing = [name for name, route in walk_patterns() if rule_lookup(name, rules, generic) is None]
    assert not missing, f"URL patterns without a permission-matrix rule: {missing}"
    names = {name for name, _ in walk_patterns()}
    stale = sorted(n for n in rules if _base_name(n) not in names)
    assert not stale, f"rules for URLs that no longer exist: {stale}"


@pytest.fixture
def fx(site_a, site_b, make_user, make_participant, study) -> Fixtures:
    fixtures = Fixtures(sites={"own": site_a, "other": site_b})
    fixtures.add("participant", make_participant(site_a), make_participant(site_b))
    fixtures.add("author", make_user(Role.COORDINATOR, sites=[site_a]), make_user(Role.COORDINATOR, sites=[site_b]))
    _, builders, _ = load_entries()
    for build in builders:
        build(fixtures)
    return fixtures


def _request(client, method: str, url: str, rule) -> int:  # noqa: ANN001
    if rule.api:
        response = getattr(client, method)(url, rule.data or {}, format="json")
    else:
        response = getattr(client, method)(url, rule.data or {})
    return response.status_code


def test_permission_matrix(fx, make_user):
    rules, _, generic = load_entries()
    role_users = {role: make_user(role) for role in ALL_ROLES}
    # One logged-in client per role, reused (a login per request would dominate the run time).
    role_clients = {}
    for role, user in role_users.items():
        role_clients[role] = APIClient()
        role_clients[role].force_login(user)
    failures: list[str] = []
    checked = 0
    for name, _route in walk_patterns():
        variants = [(n, r) for n, r in rules.items() if _base_name(n) == name] or [(name, rule_lookup(name, rules, generic))]
        for label, rule in variants:
            if name.startswith("<unnamed:admin/(?P<url>"):
                continue
            if name.startswith("<unnamed:"):
                continue  # admin's redirect-to-change shims; their targets are covered by name
            places = ("own", "other") if rule.kwargs is not None else ("own",)
            # Anonymous first.
            url = reverse(name, kwargs=rule.kwargs(fx, "own", role_users[Role.ADMIN]) if rule.kwargs else None)
            status = _request(APIClient() if rule.api else Client(), rule.method, url, rule)
            expected_anon = rule.anonymous if isinstance(rule.anonymous, tuple) else (rule.anonymous,)
            if status not in expected_anon:
                failures.append(f"{label} anonymous: got {status}, expected {expected_anon}")
            for role, user in role_users.items():
                for where in places:
                    url = reverse(name, kwargs=rule.kwargs(fx, where, user) if rule.kwargs else None)
                    if rule.ends_session:
                        client = APIClient()
                        client.force_login(user)
                    else:
                        client = role_clients[role]
                    status = _request(client, rule.method, url, rule)
                    checked += 1
                    expected = rule.expected(role, where)
                    if status != expected:
                        failures.append(f"{label} {rule.method.upper()} as {role} ({where} site): got {status}, expected {expected}")
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked > 500
