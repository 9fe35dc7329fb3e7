"""Hard limits on clinical dates and times, declared on the model fields.

A clinical date or time cannot be earlier than the trial (``Protocol.study_start_date``, the one
place the trial's start lives) and cannot be in the future. These are hard limits: impossible
values, refused through every path, since ``full_clean`` runs them (the generic form service, the
admin, the API schema). Values that are possible but unusual are soft checks for data management.

"Today" is the latest calendar date anywhere on earth (UTC+14), so that a site in a zone ahead
of the server is never refused its own today; a time may be a few minutes ahead of the server
clock (clock difference between the bedside device and the server).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from ecrf.study.services import current_protocol

# A bedside clock a few minutes ahead of the server is a clock difference, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
# The easternmost time zone (Line Islands, UTC+14): its date is the latest "today" on earth.
EARLIEST_ZONE_AHEAD = dt.timedelta(hours=14)
# Dates that may lie before the trial (a long-term medication's start) are still not before this.
EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)


def study_start() -> dt.date:
    return current_protocol().study_start()


def latest_today() -> dt.date:
    return (timezone.now().astimezone(dt.UTC) + EARLIEST_ZONE_AHEAD).date()


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if timezone.is_aware(value) else value.date()
    return value


@deconstructible
class NotBeforeStudyStart:
    """A clinical date or time is not earlier than the trial's start date."""

    code = "before_study_start"

    def __call__(self, value: Any) -> None:
        if value is None:
            return
        start = study_start()
        # A time is compared by its date, with the whole earliest zone's day allowed.
        day = _as_date(value) + (dt.timedelta(days=1) if isinstance(value, dt.datetime) else dt.timedelta(0))
        if day < start:
            raise ValidationError(
                "%(value)s is before the start of the trial (%(start)s); check the year.",
                code=self.code, params={"value": _as_date(value).isoformat(), "start": start.isoformat()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotBeforeStudyStart)

    def __hash__(self) -> int:
        return hash(self.code)


@deconstructible
class NotInFuture:
    """A clinical date is not after today; a clinical time is not after now."""

    code = "in_future"

    def __call__(self, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value) and value > timezone.now() + CLOCK_SKEW:
                raise ValidationError("This time is in the future.", code=self.code)
            return
        if value > latest_today():
            raise ValidationError("%(value)s is in the future.", code=self.code, params={"value": value.isoformat()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotInFuture)

    def __hash__(self) -> int:
        return hash(self.code)


def trial_date() -> list[Any]:
    """Validators of a clinical date or time within the trial: from its start to now."""
    return [NotBeforeStudyStart(), NotInFuture()]


def past_date() -> list[Any]:
    """Validators of a date that may precede the trial (a medication started years ago)."""
    return [MinValueValidator(EARLIEST_PLAUSIBLE_DATE), NotInFuture()]


def between(low: int | str | Decimal, high: int | str | Decimal) -> list[Any]:
    """Hard numeric limits (impossible beyond them), inclusive."""
    if isinstance(low, str):
        low, high = Decimal(low), Decimal(high)
    return [MinValueValidator(low), MaxValueValidator(high)]
