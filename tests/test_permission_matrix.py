"""Every URL x every method its view accepts x 12 roles x own / other site x anonymous.

The expected outcomes are the hand-written table in tests/permissions/entries_*.py (ARCHITECTURE.md
"Roles"); see tests/permissions/matrix.py for its form.
"""

from __future__ import annotations

import collections
import os
import zlib
import time
import re
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.permissions.matrix import (
    ROLES,
    SITE_SCOPED,
    Check,
    Fixtures,
    fingerprint,
    fingerprint_diff,
    http_method,
    load_entries,
    response_shows,
    url_methods,
)

pytestmark = pytest.mark.django_db


def _completeness_problems(rules: dict[str, dict[str, Check]], urls: dict[str, tuple[str, set[str]]]) -> list[str]:
    problems = []
    for name, (route, methods) in sorted(urls.items()):
        for method in sorted(methods):
            if method not in rules.get(name, {}):
                problems.append(f"no row for {method.upper()} {name} ({route})")
    for name, methods in sorted(rules.items()):
        if name not in urls:
            problems.append(f"rows for a URL that does not exist: {name}")
            continue
        for method in sorted({http_method(key) for key in methods} - urls[name][1]):
            problems.append(f"row for {method.upper()} {name}, which its view does not accept")
    return problems


def test_every_url_and_method_has_a_row():
    rules, _ = load_entries()
    problems = _completeness_problems(rules, url_methods())
    assert not problems, "the permission table and the URLs disagree:\n" + "\n".join(problems)


def test_completeness_notices_a_missing_and_a_stale_row():
    """The completeness check itself: a deleted row and a row for a method the view lacks."""
    rules, _ = load_entries()
    urls = url_methods()
    trimmed = {name: dict(methods) for name, methods in rules.items()}
    del trimmed["deviations-list"]["post"]
    assert "no row for POST deviations-list (api/v1/^deviations/$)" in _completeness_problems(trimmed, urls)
    trimmed["deviations-list"]["post"] = rules["deviations-list"]["post"]
    trimmed["site-list"]["post"] = rules["site-list"]["get"]
    assert "row for POST site-list, which its view does not accept" in _completeness_problems(trimmed, urls)


@pytest.fixture
def fx(site_a, site_b, make_user, make_participant, study) -> Fixtures:
    fixtures = Fixtures(sites={"own": site_a, "other": site_b})
    fixtures.add("participant", make_participant(site_a), make_participant(site_b))
    fixtures.add("author", make_user("coordinator", sites=[site_a]), make_user("coordinator", sites=[site_b]))
    _, builders = load_entries()
    for build in builders:
        build(fixtures)
    return fixtures


def _send(client, method: str, url: str, data: dict | None, rule: Check):  # noqa: ANN001, ANN202
    data = data or {}
    if rule.api:
        return getattr(client, method)(url, data, format="multipart" if rule.multipart else "json")
    if method in {"get", "post"}:
        return getattr(client, method)(url, data)
    return getattr(client, method)(url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")


def _gist(response) -> str:  # noqa: ANN001
    if response.status_code in (301, 302):
        return f"-> {response.get('Location')}"
    if response.get("Content-Type", "").startswith("application/json"):
        return response.content.decode()[:200]
    errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(errors="replace"), re.S)
    return re.sub(r"<[^>]+>", " ", " | ".join(errors))[:300]


def _refused(response) -> bool:  # noqa: ANN001
    """A refusal: an error status, or a redirect to a login page (anonymous, or not staff in the admin)."""
    return response.status_code >= 400 or (response.status_code in (301, 302) and "/login/" in response.get("Location", ""))


def _run(client, method: str, url: str, rule: Check, data: dict | None, expected: int | tuple[int, ...], label: str,
         failures: list[str], fx: Fixtures | None = None, role: str | None = None, where: str = "own"):  # noqa: ANN001
    """One request; a write runs in a savepoint rolled back afterwards, and a refused one must change nothing."""
    wanted = expected if isinstance(expected, tuple) else (expected,)
    write = method != "get"
    try:
        with transaction.atomic():
            before = fingerprint() if write else None
            response = _send(client, method, url, data, rule)
            if response.status_code not in wanted:
                failures.append(f"{label}: got {response.status_code}, expected {expected}: {_gist(response)}")
                if os.environ.get("MATRIX_DUMP"):
                    with open(os.path.join(os.environ["MATRIX_DUMP"], re.sub(r"\W+", "_", label) + ".html"), "wb") as out:
                        out.write(response.content)
            elif write and _refused(response):
                changed = fingerprint_diff(before, fingerprint())
                if changed:
                    failures.append(f"{label}: refused with {response.status_code} but changed {changed}")
            elif write and (changes := rule.changes_at(where)) is not None and (fingerprint() != before) != changes:
                failures.append(f"{label}: answered {response.status_code} but "
                                + ("changed nothing" if changes else f"changed {fingerprint_diff(before, fingerprint())}"))
            if rule.shows is not None and fx is not None and role is not None and response.status_code == 200:
                _check_list(response, rule, fx, role, label, failures)
            transaction.set_rollback(True)
    except Exception as exc:  # noqa: BLE001  (a view that raises is a failure of the table, reported with the rest)
        failures.append(f"{label}: raised {type(exc).__name__}: {exc}")


def _check_list(response, rule: Check, fx: Fixtures, role: str, label: str, failures: list[str]) -> None:  # noqa: ANN001
    own, other = rule.shows(fx, "own"), rule.shows(fx, "other")
    if not response_shows(response, own):
        failures.append(f"{label}: the list does not show the own site's row {own!r}")
    shows_other = response_shows(response, other)
    if rule.sees_other_site(role) and not shows_other:
        failures.append(f"{label}: the list does not show the other site's row {other!r} (this role sees every site)")
    if not rule.sees_other_site(role) and shows_other:
        failures.append(f"{label}: the list shows the other site's row {other!r}")


def _url(name: str, rule: Check, fx: Fixtures, where: str, user) -> str:  # noqa: ANN001
    kwargs = rule.kwargs(fx, where, user) if rule.kwargs else None
    if name.startswith("<"):  # an unnamed pattern: its rule builds the path
        return kwargs["url"]
    return reverse(name, kwargs=kwargs)


# The Django admin lets only staff users in (admin, data manager): every other role is sent to
# the admin's login page by the admin site itself, before any model's code runs. So each admin
# row is checked for anonymous, both staff roles and ONE of the other roles, taken in turn by a
# stable hash of the URL and method, so that across the admin's ~300 rows every non-staff role is
# checked many times (a wrong grant to a non-staff role on one admin model still fails the
# table: the role is checked on every model's pages, only not on every one of them).
ADMIN_STAFF = ("admin", "data_manager")


def _admin_url(name: str) -> bool:
    return name.startswith(("admin:", "<admin/"))


def _roles_for(name: str, method: str, roles: list[str]) -> list[str]:
    if not _admin_url(name):
        return roles
    others = [r for r in roles if r not in ADMIN_STAFF]
    pick = others[zlib.crc32(f"{method} {name}".encode()) % len(others)]
    return [r for r in roles if r in ADMIN_STAFF or r == pick]


# The table is checked in parts, so that pytest-xdist spreads it over the cores.
PARTS = 4


@pytest.mark.exhaustive
@pytest.mark.parametrize("part", range(PARTS))
def test_permission_matrix(fx, make_user, site_a, part, settings):
    # Sessions in signed cookies: the idle timeout saves the session on every request, which in
    # the database is most of a request's queries; authorization does not depend on where a
    # session is kept (the session tests use the database engine of the settings).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    rules, _ = load_entries()
    urls = url_methods()
    users = {role: make_user(role, sites=[site_a] if role in SITE_SCOPED else []) for role in ROLES}
    # One logged-in client per role, reused: a login per request would dominate the run time.
    clients = {}
    for role, user in users.items():
        clients[role] = APIClient()
        clients[role].force_login(user)
    failures: list[str] = []
    checked = 0
    timing: dict[str, float] = collections.defaultdict(float)
    # MATRIX_URLS (a regular expression) narrows the run to some URLs while editing the table.
    only = re.compile(os.environ.get("MATRIX_URLS", ".*"))
    for name in sorted(n for n in urls if only.search(n))[part::PARTS]:
        started = time.perf_counter()
        for key, rule in sorted(rules.get(name, {}).items()):
            method = http_method(key)  # "post" or a variant of it: "post fields" (a row of its own)
            tag = f"{key.upper()} {name}"
            anon_user = users["admin"]
            url = _url(name, rule, fx, "own", anon_user)
            data = rule.body(fx, "own", anon_user) if rule.body else None
            _run(APIClient() if rule.api else Client(), method, url, rule, data, rule.anonymous, f"{tag} anonymous", failures)
            for role in _roles_for(name, method, list(users)):
                user = users[role]
                for where in rule.places():
                    url = _url(name, rule, fx, where, user)
                    data = rule.body(fx, where, user) if rule.body else None
                    client = clients[role]
                    if rule.fresh_client:
                        client = APIClient()
                        client.force_login(user)
                    _run(client, method, url, rule, data, rule.expected(role, where), f"{tag} as {role} ({where} site)",
                         failures, fx, role, where)
                    checked += 1
        timing[re.sub(r"^(admin:[a-z]+_[a-z]+)_.*|^<(admin/[a-z]+/[a-z]+)/.*", r"\1\2", name)] += time.perf_counter() - started
    if os.environ.get("MATRIX_TIMING"):
        for name, seconds in sorted(timing.items(), key=lambda kv: -kv[1])[:25]:
            print(f"{seconds:7.2f}s {name}")  # noqa: T201
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked > 3000 // PARTS or "MATRIX_URLS" in os.environ
