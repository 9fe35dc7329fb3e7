"""Time helpers shared by the pure domain modules (no Django import)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def require_aware(name: str, value: datetime) -> datetime:
    """``value`` converted to UTC; a naive datetime raises ``ValueError``.

    Timezone-aware datetimes only (a naive time is ambiguous across sites).
    Converting to UTC matters: Python subtracts and compares two datetimes that share one
    ``tzinfo`` object by wall time, which is wrong across a daylight-saving change."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}.")
    return value.astimezone(UTC)


def zone(tz: str) -> ZoneInfo:
    """The IANA zone named ``tz``; an unknown name raises ``ValueError``."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {tz!r}.") from exc


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of calendar date ``day`` in zone ``tz``, in UTC.

    ``fold=0`` gives the right instant in every case: where midnight is repeated (clocks go back
    at 01:00) it picks the first occurrence; where midnight is skipped (clocks go forward at
    00:00) it uses the offset before the transition, which lands exactly on the transition
    instant, the first instant that exists on that date."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
