"""The source-data verification plan, as data (pure: no Django).

Risk-based monitoring (ICH E6(R3) 5.0, 5.18): the data behind the trial's critical decisions and
endpoints are verified against the source in full: consent, eligibility and the phenotype that
stratifies randomization, the SOFA days of the primary endpoint (days 1-9), deaths, and serious
adverse events. Every other submitted form is verified in a deterministic sample: the same form
is always in or out of the sample, so progress never moves when the page is reloaded and a
monitor cannot pick the easy ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FullSDV:
    key: str  # FormSpec key
    label: str  # why, for the monitor
    days: tuple[int, int] | None = None  # inclusive study-day range of the form's ``day`` field
    when: tuple[str, Any] | None = None  # (field, value): only entries with that value (serious AEs)


FULL_SDV: tuple[FullSDV, ...] = (
    FullSDV("screening.consent", "Informed consent"),
    FullSDV("screening.screening", "Eligibility"),
    FullSDV("screening.central_lab", "Phenotype (randomization stratum)"),
    FullSDV("sofa.sofa_day", "SOFA days 1-9 (primary endpoint)", days=(1, 9)),
    FullSDV("outcomes.death", "Death"),
    FullSDV("safety.adverse_event", "Serious adverse event", when=("serious", True)),
)
# The fraction of every other submitted form that is verified (a deterministic sample).
SAMPLE_PERCENT = 20


class Requirement:
    FULL = "full"
    SAMPLE = "sample"
    NONE = "none"


REQUIREMENT_LABELS = {Requirement.FULL: "100% SDV", Requirement.SAMPLE: "Sampled for SDV",
                      Requirement.NONE: "Not in the SDV plan"}


def in_sample(key: str, form_id: int, percent: int = SAMPLE_PERCENT) -> bool:
    """Deterministic: the same (form type, id) is always in or out of the sample."""
    digest = hashlib.sha256(f"{key}:{int(form_id)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def requirement(key: str, form_id: int, values: Mapping[str, Any], *, percent: int = SAMPLE_PERCENT) -> str:
    """What the plan asks of one submitted form: full verification, in the sample, or nothing."""
    for rule in FULL_SDV:
        if rule.key != key:
            continue
        if rule.days is not None:
            day = values.get("day")
            if day is None or not (rule.days[0] <= int(day) <= rule.days[1]):
                continue
        if rule.when is not None and values.get(rule.when[0]) != rule.when[1]:
            continue
        return Requirement.FULL
    return Requirement.SAMPLE if in_sample(key, form_id, percent) else Requirement.NONE
