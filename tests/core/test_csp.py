"""A Content-Security-Policy header on every page and API answer: only the application's own
scripts and styles, no plug-ins, no framing, forms to this site only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ecrf.accounts.roles import Role

pytestmark = pytest.mark.django_db
REQUIRED = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "object-src": "'none'",
    "base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:  # noqa: ANN001
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_strict(response) -> None:  # noqa: ANN001
    policy = policy_of(response)
    for directive, value in REQUIRED.items():
        assert policy.get(directive) == value, (response.request["PATH_INFO"], directive, policy.get(directive))


def urls_without_arguments(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found: list[str] = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            found += urls_without_arguments(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + route)
    return sorted(set(found))


PAGES = [u for u in urls_without_arguments() if not u.startswith("/api/")]


def test_the_walk_finds_the_pages():
    assert {"/", "/accounts/login/", "/safety/clocks/"} <= set(PAGES)


@pytest.mark.parametrize("role", [None, Role.DATA_MANAGER, Role.COORDINATOR, Role.SAFETY_OFFICER])
def test_every_page_has_the_strict_policy(users, role):
    client = Client()
    if role is not None:
        client.force_login(users[role])
    for url in PAGES:
        assert_strict(client.get(url))


def test_participant_pages_error_pages_and_the_api_have_the_policy(users, participant_a):
    client = Client()
    client.force_login(users[Role.COORDINATOR])
    assert_strict(client.get(f"/participants/{participant_a.pk}/"))
    assert_strict(client.get("/no-such-page/"))
    assert_strict(client.get("/api/v1/administrations/"))


def test_the_api_docs_relax_only_their_styles(users):
    client = Client()
    client.force_login(users[Role.DATA_MANAGER])
    policy = policy_of(client.get("/api/docs/"))
    assert policy["script-src"] == "'self'"  # the start-up script is a file: /api/docs/?script=
    assert "'unsafe-inline'" in policy["style-src"] and policy["frame-ancestors"] == "'none'"
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
