"""Site-time helpers and administration payloads."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ATHENS = ZoneInfo("Europe/Athens")


def athens(*args: int) -> dt.datetime:
    """A time in site A's zone (Europe/Athens): ``athens(2025, 3, 10, 10, 0)``."""
    return dt.datetime(*args, tzinfo=ATHENS)


def iv(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "iv", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 30, "volume_ml": "20", **extra}


def sc(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "sc", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 1, "volume_ml": "0.5", **extra}
