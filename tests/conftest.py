"""Shared fixtures: sites, one user per role at site A (and B), participants, API clients,
and the service markers (postgres, redis, worker, browser) with skip-or-fail semantics."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from ecrf.accounts.roles import SITE_SCOPED_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.crf.models import Participant
from ecrf.study.models import Site, Study

REQUIRE_SERVICES = os.environ.get("ECRF_REQUIRE_SERVICES") == "1"

# The trial-stage fixtures (randomized, screened) of tests/support, for every test directory.
pytest_plugins = ["tests.support.fixtures"]
PASSWORD = "Correct-Horse-Battery-9"


def _service_problem(marker: str) -> str | None:
    if marker == "postgres":
        return None if connection.vendor == "postgresql" else "PostgreSQL is not the test database (set DATABASE_URL=postgresql://...)"
    if marker in {"redis", "worker"}:
        url = os.environ.get("CELERY_BROKER_URL", "")
        if marker == "redis" or url.startswith("redis"):
            if not url.startswith("redis"):
                return "CELERY_BROKER_URL does not point at Redis"
            try:
                import redis

                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            except Exception as exc:  # noqa: BLE001
                return f"Redis is not reachable at {url}: {exc}"
        return None
    if marker == "browser":
        if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
            return "Debian's chromium is not installed (apt-get install chromium)"
        return None
    if marker == "gettext":
        if not shutil.which("xgettext") or not shutil.which("msgfmt"):
            return "GNU gettext is not installed (apt-get install gettext)"
        return None
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The exhaustive URL walks first, the counterfactual module (the longest) before the matrix:
    under pytest-xdist (--dist loadfile, as CI runs it) each then runs beside the rest of the
    suite instead of after it, on one core while the other core is idle."""
    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("exhaustive") is None:
            return 2
        return 0 if "counterfactual" in item.nodeid else 1

    items.sort(key=weight)  # stable: the order within each class is kept
    if os.environ.get("ECRF_SQLITE_PASS") == "1":
        _keep_the_sqlite_pass(config, items)


# CI's second pass, on SQLite (the embedded default of `make run`), after the whole suite ran on
# PostgreSQL. The ORM gives both databases the same meaning for ordinary reads and writes, so a
# test that touches no database, or only through plain querysets, tells nothing new on SQLite.
# The pass runs the tests of what the databases do differently, each pattern with its reason.
# A pattern that matches no test fails the pass, so the list cannot rot silently.
SQLITE_PASS: dict[str, str] = {
    "tests/*/test_checks.py": "each app's edit checks: SQL built from querysets, with date arithmetic",
    "tests/queries/*": "the check engine's multi-row INSERT ... SELECT, its conflict handling and locked reads",
    "tests/schedule/*": "the window checks extract and compare dates in SQL",
    "tests/audit/*": "the hash chain and its verification (a vendor branch)",
    "tests/notifications/*": "the outbox claims its rows with a vendor branch",
    "tests/integration/*": "the outbox delivered by a real worker",
    "tests/exports/*": "packages stream history-as-of reads and are what the demo exports",
    "tests/analysis/*": "the SDTM/ADaM read history as of the package time",
    "tests/limits/*": "field limits and check constraints enforced by the database",
    "tests/ui/*": "every page of every role's menu, as `make run` serves it",
    "tests/*/test_synthetic*.py": "the demo data that `make run` builds on SQLite",
    "tests/test_support_stages.py": "the trial stages the tests build on",
    "tests/safety/test_clock_job.py": "the clock job's batched UPDATE",
    "tests/sofa/test_endpoint_service.py": "the endpoint re-derivation's batched UPDATE",
    "tests/dosing/test_missed_dose_sweep.py": "the missed-dose sweep's set-based reads",
    "tests/randomization/test_concurrency.py": "no duplicate allocation where SELECT ... FOR UPDATE is a no-op",
    "tests/accounts/test_lockout.py": "the lockout counters (django-axes) and the session store",
    "tests/core/test_configuration.py": "the database settings of each vendor",
}


def _keep_the_sqlite_pass(config: pytest.Config, items: list[pytest.Item]) -> None:
    import fnmatch

    uses_db = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}

    def path(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    matched = {pattern: False for pattern in SQLITE_PASS}
    kept = []
    for item in items:
        hits = [p for p in SQLITE_PASS if fnmatch.fnmatch(path(item), p)]
        for p in hits:
            matched[p] = True
        if hits and (item.get_closest_marker("django_db") is not None or uses_db & set(getattr(item, "fixturenames", ()))):
            kept.append(item)
    unmatched = [p for p, hit in matched.items() if not hit]
    whole_suite = config.args == list(config.getini("testpaths")) and not config.getoption("keyword")
    if unmatched and whole_suite:
        raise pytest.UsageError(f"SQLITE_PASS patterns that match no test: {unmatched}")
    kept_ids = {id(i) for i in kept}
    config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept_ids])
    items[:] = kept


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "worker", "browser", "gettext"):
        if item.get_closest_marker(marker) is None:
            continue
        problem = _service_problem(marker)
        if problem:
            if REQUIRE_SERVICES:
                pytest.fail(f"required service missing ({marker}): {problem}", pytrace=False)
            pytest.skip(f"{marker}: {problem}")


@pytest.fixture(autouse=True)
def _project_language_after_each_test():
    """A request leaves its language active in the thread (Django's LocaleMiddleware does not
    reset it): each test starts in the project's language, whatever the one before it asked."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def study(db) -> Study:
    return Study.objects.create(code="TEST", title="Test study", time_zone="Europe/Athens", safety_contact_email="safety@example.org")


@pytest.fixture
def site_a(db) -> Site:
    return Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")


@pytest.fixture
def site_b(db) -> Site:
    return Site.objects.create(code="B", name="Site B", country="NL", time_zone="Europe/Amsterdam")


@pytest.fixture
def make_user(db, site_a):
    counter = {"n": 0}

    def make(role: str | list[str], sites: list[Site] | None = None, **kwargs):
        roles = [role] if isinstance(role, str) else role
        counter["n"] += 1
        if sites is None:
            sites = [site_a] if set(roles) & SITE_SCOPED_ROLES else []
        user, _ = user_create(actor=None, username=f"{'-'.join(roles)}{counter['n']}", roles=roles,
                              site_codes=[s.code for s in sites], password=PASSWORD, **kwargs)
        return user

    return make


@pytest.fixture
def users(make_user, study) -> dict[str, object]:
    """One user per role; site roles belong to site A."""
    return {role: make_user(role) for role in Role.values}


@pytest.fixture
def coordinator(users):
    return users[Role.COORDINATOR]


@pytest.fixture
def make_participant(db, site_a):
    counter = {"n": 0}

    def make(site: Site | None = None, **kwargs) -> Participant:
        counter["n"] += 1
        site = site or site_a
        p = Participant(site=site, screening_number=kwargs.pop("screening_number", f"{site.code}-S{counter['n']:03d}"), **kwargs)
        p._change_reason = "Created for a test"
        p.save()
        return p

    return make


@pytest.fixture
def participant_a(make_participant, site_a) -> Participant:
    return make_participant(site_a)


@pytest.fixture
def participant_b(make_participant, site_b) -> Participant:
    return make_participant(site_b)


@pytest.fixture
def api():
    def client_for(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for
