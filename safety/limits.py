"""Cross-field hard limits of one adverse event: what cannot be true of any AE.

Pure: plain values in, ``{field: message}`` out, no Django import. ``AdverseEvent.clean`` calls
``ae_limit_errors`` so that every write path (the form service's ``full_clean``, the admin)
refuses these; the single-field limits (dates within the trial, haemoglobin nadir, units
transfused) are validators on the model fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo


def aware_before_onset(onset: dt.date | None, aware_at: dt.datetime | None, tz: str) -> str | None:
    """The investigator cannot become aware of an AE before it began: the awareness time, as a
    calendar date in the site's time zone (the zone the onset date is recorded in), is not
    earlier than the onset date."""
    if onset is None or aware_at is None or aware_at.tzinfo is None:
        return None
    aware_day = aware_at.astimezone(ZoneInfo(tz)).date()
    if aware_day < onset:
        return (f"The investigator became aware on {aware_day:%Y-%m-%d}, before the onset date ({onset:%Y-%m-%d}); "
                "awareness cannot precede the event: check both dates.")
    return None


def ae_limit_errors(ae: Any) -> dict[str, str]:
    """The cross-field hard limits of ``ae`` (an ``AdverseEvent``), each naming the field to fix."""
    errors: dict[str, str] = {}
    participant = getattr(ae, "participant", None)
    tz = participant.site.time_zone if participant is not None else "UTC"
    message = aware_before_onset(ae.onset_date, ae.aware_at, tz)
    if message:
        errors["aware_at"] = message
    return errors
