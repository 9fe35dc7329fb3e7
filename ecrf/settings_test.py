"""Test settings: the production settings with the test form app and fast password hashing."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-test-suite-only-0123456789")
os.environ.setdefault("ECRF_EXTRA_APPS", "tests.testapp")
os.environ.setdefault("DATABASE_URL", "sqlite:///var/test-ecrf.sqlite3")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
if not os.environ.get("CELERY_FILESYSTEM_DIR"):
    # A private broker folder per test run, so a developer's running worker never takes test tasks.
    import tempfile

    os.environ["CELERY_FILESYSTEM_DIR"] = tempfile.mkdtemp(prefix="ecrf-test-celery-")  # Playwright's sync API in live-server tests

from ecrf.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
