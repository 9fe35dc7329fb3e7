"""Test settings: the production settings with the test form app and fast password hashing."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-test-suite-only-0123456789")
os.environ.setdefault("AUDIT_HMAC_KEY", "test-audit-hmac-key-for-the-test-suite-only-0123456789")
os.environ.setdefault("ECRF_EXTRA_APPS", "tests.testapp")
os.environ.setdefault("DATABASE_URL", "sqlite:///var/test-ecrf.sqlite3")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in live-server tests
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under pytest-xdist
if not os.environ.get("CELERY_FILESYSTEM_DIR") or _xdist:
    # A private broker folder per test process, so that no other worker (a developer's running
    # one, or another xdist process's) ever takes this process's tasks.
    import tempfile

    os.environ["CELERY_FILESYSTEM_DIR"] = tempfile.mkdtemp(prefix=f"ecrf-test-celery-{_xdist}-")
if _xdist and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
    # Likewise on Redis: one logical database per xdist process (redis://host:port/N).
    _base, _, _db = os.environ["CELERY_BROKER_URL"].rpartition("/")
    _n = int(_xdist.removeprefix("gw") or 0) + 1 + (int(_db) if _db.isdigit() else 0)
    os.environ["CELERY_BROKER_URL"] = f"{_base}/{_n}"

from ecrf.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
