"""Configuration from the environment: bad values stop start-up naming the variable; the
production settings pass ``check --deploy``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "a-very-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "AUDIT_HMAC_KEY": "a-separate-long-random-audit-chain-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "ecrf.example.org",
    "DATABASE_URL": "sqlite:////tmp/ecrf-deploy-check.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6399/0",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "AUDIT_HMAC_KEY", "ALLOWED_HOSTS", "DATABASE_URL",
                                                          "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                                                          "DJANGO_ALLOW_ASYNC_UNSAFE", "ECRF_EXTRA_APPS"}}
    return subprocess.run([sys.executable, "manage.py", *args], env={**base, "DJANGO_SETTINGS_MODULE": "ecrf.settings", **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"AUDIT_HMAC_KEY": ""}, "AUDIT_HMAC_KEY"),
        ({"AUDIT_HMAC_KEY": "short"}, "AUDIT_HMAC_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@h:5432/"}, "DATABASE_URL"),
        ({"SESSION_IDLE_MINUTES": "soon"}, "SESSION_IDLE_MINUTES"),
    ],
)
def test_bad_or_missing_variable_stops_startup_naming_it(override, named):
    result = run_manage("check", env={**PROD, **override})
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_sessions_compile_no_query_plans_just_in_time():
    # With PostgreSQL's default JIT, compiling one edit check's statement (a wide CASE over
    # correlated subqueries) took seconds on a handful of participants; running it takes
    # milliseconds. The connection turns JIT off whatever the server's default.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
