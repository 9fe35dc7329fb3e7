"""Shared helpers for the schedule, dosing, labs, medications, outcomes and deviations tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ecrf.crf.services import participant_mark_randomized

ATHENS = ZoneInfo("Europe/Athens")


def athens(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ATHENS)


def randomize(participant, at: dt.datetime, actor=None, subject_id: str | None = None):  # noqa: ANN001, ANN201
    return participant_mark_randomized(participant=participant, subject_id=subject_id or f"SUBJ-{participant.pk:04d}",
                                       randomized_at=at, actor=actor)


def iv(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "iv", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 30, "volume_ml": "20", **extra}


def sc(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "sc", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 1, "volume_ml": "0.5", **extra}
