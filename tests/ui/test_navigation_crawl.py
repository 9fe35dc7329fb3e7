"""Every role's menu holds the pages that role uses, and no link on a page it can reach leads to
a page it may not open (403) or that does not exist (404).

The crawl logs in as each role, starts at the home page and follows every same-origin GET link
(``<a href>``) on every page it reaches, breadth first. To keep it cheap, at most two URLs per
URL pattern is opened (a list's second page or a second participant says nothing new), and
at most ``MAX_PAGES`` pages per role; the Django admin is checked at its index only. The world is small: one
randomized participant at the users' site with a serious adverse event assessed as a potential
SUSAR (so the safety pages, both kinds of clock and the inbox's notifications have something to
link to).

The expected menus below are written by hand from ARCHITECTURE.md "Roles" (what each role does),
never read from the navigation registry. Blinded roles must never meet a product's name on any
page they reach (ARCHITECTURE.md invariant 6).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from tests.safety import conftest as safety_fixtures
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db
meddra = safety_fixtures.meddra

MAX_PAGES = 120
PER_PATTERN = 1
# The admin's own pages are Django's: the crawl opens its index (from the menu), not its forms.
SKIP_PREFIXES = ("/static/", "/accounts/logout/", "/api/", "/admin/")

# The pages each role works in, from ARCHITECTURE.md "Roles": the menu holds exactly these.
SITE_STAFF = {"home:home", "screening:log", "screening:report", "crf:participant-list", "safety:ae-list",
              "queries:site-list", "notifications:inbox"}
MENUS: dict[str, set[str]] = {
    "investigator": SITE_STAFF,
    "coordinator": SITE_STAFF,
    "pharmacist": {"home:home", "crf:participant-list", "pharmacy:worklist", "notifications:inbox"},
    "lab": {"home:home", "screening:log", "screening:lab-import", "screening:report", "crf:participant-list",
            "notifications:inbox"},
    "monitor": {"home:home", "screening:log", "screening:report", "crf:participant-list", "safety:ae-list",
                "queries:inbox", "review:progress", "notifications:inbox"},
    "data_manager": {"home:home", "screening:log", "screening:report", "crf:participant-list", "safety:ae-list",
                     "queries:inbox", "review:progress", "review:locks", "exports:list", "notifications:inbox",
                     "admin:index"},
    "safety_officer": {"home:home", "screening:log", "screening:report", "crf:participant-list", "safety:ae-list",
                       "safety:clock-board", "safety:adjudication-queue", "notifications:inbox"},
    "pharmacovigilance": {"home:home", "safety:clock-board", "safety:case-list", "notifications:inbox"},
    "sponsor": {"home:home", "screening:report", "exports:list", "notifications:inbox"},
    "statistician": {"home:home", "screening:report", "randomization:lists", "exports:list", "notifications:inbox"},
    "dsmb": {"home:home", "screening:report", "exports:list", "notifications:inbox"},
    "admin": {"home:home", "notifications:inbox", "admin:index"},
}
BLINDED = {"investigator", "coordinator", "lab", "monitor", "data_manager", "safety_officer", "sponsor", "admin"}
# What a blinded page must never show: the names of what the pharmacy prepares (the arm). The
# products' plain names may appear (the protocol's reference safety information names them).
PRODUCT_WORDS = ("anakinra (iv)", "placebo (iv saline)", "interferon-gamma-1b (sc)", "placebo (sc saline)", "placebo_iv",
                 "placebo_sc")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.menu: list[str] = []
        self._in_menu = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("data-testid") == "main-menu":
            self._in_menu = 1
        elif self._in_menu and tag == "ul":
            self._in_menu += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
            if self._in_menu:
                self.menu.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._in_menu and tag == "ul":
            self._in_menu -= 1


def _pattern(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def crawl(client: Client, *, blinded: bool) -> tuple[list[str], list[str], set[str]]:
    """(problems, pages visited, the home page's menu links)."""
    problems: list[str] = []
    visited: list[str] = []
    per_pattern: Counter[str] = Counter()
    seen: set[str] = set()
    queue: deque[tuple[str, str]] = deque([("/", "(start)")])
    menu: set[str] = set()
    while queue and len(visited) < MAX_PAGES:
        url, source = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        name = _pattern(path)
        if name is None:
            problems.append(f"404 {url} (no such URL) linked from {source}")
            continue
        if per_pattern[name] >= PER_PATTERN:
            continue
        per_pattern[name] += 1
        response = client.get(url)
        visited.append(url)
        if response.status_code in (403, 404) or response.status_code >= 500:
            problems.append(f"{response.status_code} {url} linked from {source}")
            continue
        if response.status_code in (301, 302):
            queue.append((response["Location"], url))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        if blinded and (named := [w for w in PRODUCT_WORDS if w in body.lower()]):
            problems.append(f"{url} names {named} to a blinded role")
        parser = _Links()
        parser.feed(body)
        if url == "/":
            menu = {urlsplit(h).path for h in parser.menu}
        for href in parser.links:
            target, _ = urldefrag(urljoin(url, href))
            parts = urlsplit(target)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver") or not parts.path:
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if (local.startswith(SKIP_PREFIXES) and local != "/admin/") or local in seen:
                continue
            queue.append((local, url))
    return problems, visited, menu


@pytest.fixture
def world(users, randomized, meddra):
    from ecrf.crf.services import form_create
    from safety.services import assessment_record
    from safety.specs import AE_SPEC
    from tests.safety.conftest import ae_data

    ae = form_create(actor=users["investigator"], spec=AE_SPEC, participant=randomized, data=ae_data(**SERIOUS), submit=True)
    # Related and unexpected: a potential SUSAR, so pharmacovigilance has a case and a clock.
    assessment_record(actor=users["safety_officer"], ae=ae, expected=False, rsi_reference="Investigator's brochure v3",
                      sponsor_aware_at=ae.aware_at + dt.timedelta(hours=2))
    return users


def test_each_role_reaches_its_pages_from_its_menu_and_meets_no_403_or_404(world):
    failures: list[str] = []
    for role, user in world.items():
        client = Client()
        client.force_login(user)
        problems, visited, menu = crawl(client, blinded=role in BLINDED)
        expected = {reverse(name) for name in MENUS[role]}
        if menu != expected:
            failures.append(f"{role}: menu lacks {sorted(expected - menu)}, has extra {sorted(menu - expected)}")
        failures += [f"{role}: {p}" for p in problems]
        if not expected <= {urlsplit(u).path for u in visited}:
            failures.append(f"{role}: the crawl did not reach {sorted(expected - set(visited))}")
    assert not failures, "\n".join(failures)
