"""Configuration read from the environment (ARCHITECTURE.md "Configuration").

Every variable is parsed here, once; a bad value stops start-up with a message that names it.
Settings elsewhere never call ``os.environ`` directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        return default if default is not None else ""
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} must be an integer, got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """``sqlite:///path`` or ``postgresql://user:pass@host:port/db`` -> a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise ImproperlyConfigured("DATABASE_URL: sqlite URLs look like sqlite:///path/to/file.sqlite3.")
        if not path.startswith("/"):
            path = str(BASE_DIR / path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": path + ".test"},
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured("DATABASE_URL: a PostgreSQL URL must name the database.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.path.lstrip("/"),
            "USER": parsed.username or "",
            "PASSWORD": parsed.password or "",
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "ATOMIC_REQUESTS": False,
            # No JIT compilation: the edit checks are single set-based statements with wide CASE
            # expressions whose planner cost passes jit_above_cost even on a small trial, and
            # compiling them took seconds per statement where running them takes milliseconds.
            # The workload is short transactions and indexed set-based reads, which JIT does not
            # speed up.
            "OPTIONS": {"options": "-c jit=off"},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url.split(':', 1)[0]!r}."
    )
