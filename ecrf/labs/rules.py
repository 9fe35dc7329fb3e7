"""The lab forms' rules (local lab panel, follow-up central lab), as pure functions on plain values.

A lab form is for one of the sampling days of ``ecrf.study.visits``, its sample taken within the
visit window (site dates); results carry their units (``units``). ``hooks`` computes the window
from the participant's randomization and calls these functions. Each returns
``{field: message}`` for the first problem found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ecrf.labs.units import LOCAL_ANALYTES, to_standard
from ecrf.study.protocol import Protocol

# A sample time a few minutes ahead of the server clock is a clock difference, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
HLA_DR_MAX_PER_CELL = 200000  # beyond it not a plausible result


@dataclass(frozen=True)
class SampleWindow:
    """The visit window of a sampling day: from the start of its first day to the end of its
    last (site time), and those two dates for the message."""

    start: dt.datetime
    end: dt.datetime
    first_date: dt.date
    last_date: dt.date


def sampling_problems(*, day: int | None, sample_time: dt.datetime | None, sampling_days: Sequence[int],
                      window: SampleWindow | None, now: dt.datetime) -> dict[str, str]:
    """``window`` is that of ``day`` when it is a sampling day (None otherwise)."""
    if day not in sampling_days or window is None:
        return {"day": f"Labs are sampled on days {', '.join(str(d) for d in sampling_days)}; day {day} is not a sampling day."}
    if sample_time is not None:
        if not window.start <= sample_time < window.end:
            return {"sample_time": f"A day-{day} sample is taken between {window.first_date} and {window.last_date} (site time)."}
        if sample_time > now + CLOCK_SKEW:
            return {"sample_time": "The sample time cannot be in the future."}
    return {}


@dataclass(frozen=True)
class Result:
    value: Decimal | None = None
    unit: str = ""
    low: Decimal | None = None  # normal range, in the result's unit
    high: Decimal | None = None


def panel_problems(results: Mapping[str, Result]) -> dict[str, str]:
    """The local panel's results by analyte (``units.LOCAL_ANALYTES``)."""
    if all(results.get(a, Result()).value is None for a in LOCAL_ANALYTES):
        return {LOCAL_ANALYTES[0]: "Enter at least one result."}
    for a in LOCAL_ANALYTES:
        r = results.get(a, Result())
        if r.value is not None and not r.unit:
            return {f"{a}_unit": f"Give the unit of the {a.replace('_', ' ')} result."}
        if r.value is not None and r.value < 0:
            return {a: "A result cannot be negative."}
        if (r.low is not None or r.high is not None) and not r.unit:
            return {f"{a}_unit": "Give the unit of the normal range."}
        if r.low is not None and r.high is not None and r.low > r.high:
            return {f"{a}_high": "The upper limit of normal is below the lower limit."}
    return {}


def anemia(hemoglobin: Decimal | None, unit: str, *, protocol: Protocol) -> tuple[Decimal | None, bool | None]:
    """Haemoglobin in g/dL and whether it is below the protocol's anaemia threshold (strictly);
    (None, None) without a value or with a unit that validation refuses."""
    if hemoglobin is None or not unit:
        return None, None
    try:
        g_dl = to_standard("hemoglobin", hemoglobin, unit)
    except ValueError:
        return None, False  # the unit is refused by validation
    return g_dl, g_dl < protocol.anemia_hemoglobin_g_dl


def central_lab_problems(*, ferritin: Decimal | None, ferritin_unit: str, hla_dr: int | None) -> dict[str, str]:
    if ferritin is None and hla_dr is None:
        return {"ferritin": "Enter ferritin, HLA-DR or both."}
    if ferritin is not None and not ferritin_unit:
        return {"ferritin_unit": "Give the ferritin unit (ng/mL or ug/L)."}
    if ferritin is not None and ferritin < 0:
        return {"ferritin": "Ferritin cannot be negative."}
    if hla_dr is not None and hla_dr > HLA_DR_MAX_PER_CELL:
        return {"hla_dr": "HLA-DR above 200,000 receptors/cell is not a plausible result."}
    return {}
