"""SOFA-based endpoints per participant: pure derivations, no Django (reference/trial.md).

Primary endpoint (SAP): response = SOFA(day 1) - mean(SOFA days 2..9); a responder has
response > 1.4 (strict). Secondary: the same response over days 2..15, and the mean SOFA over
days 1..9 among participants alive on day 9.

Only submitted forms are data (trial team's rule, one rule for SOFA days, deaths and doses): a
draft SOFA form is no observed day, a draft death does not make days count 24, and a draft dose
does not put the participant in the mITT population. ``observed_sofa`` applies it to SOFA forms;
the death and dose selectors (``ecrf.outcomes.selectors.death_days``,
``ecrf.dosing.selectors.first_doses``) read submitted forms only.

Missing days (SAP): from the day of death on, every day counts ``protocol.death_sofa_score``
(24), the day of death included; any other missing day is filled by the last observed day
(LOCF). Day 1 is the exception to the death rule: its SOFA is the worst of the 24 hours before
randomization, observed before any death, so a death on day 1 keeps the observed baseline and
days 2..9 count 24 (response = baseline - 24). No day-1 form makes the participant not
evaluable: nothing is guessed, and in the primary analysis such a participant counts as a
non-responder.

Every randomized participant has an endpoint record from randomization on; what it lacks is
said by a reason: a stable code (stored, exported, filtered on) and its human message
(``reason_message``).

Arithmetic is exact (``Fraction``): with integer daily scores the response is a multiple of 1/8,
so 1.375 is not a responder and 1.5 is. Decimal views are exact whenever the value has a finite
decimal expansion (always for the 8-day primary response); otherwise they are rounded to
``DECIMAL_PLACES`` for display, and decisions use the exact fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Final, Literal

from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol

BASELINE_DAY: Final = 1  # trial.md: day 1 is the baseline (worst values of the 24 h before)
DECIMAL_PLACES: Final = Decimal("0.000001")  # display rounding of non-terminating means only

# The entry status whose forms are data for the derivations (the value of
# ``ecrf.crf.models.EntryStatus.SUBMITTED``; this module imports no Django).
DATA_STATUS: Final = "submitted"

# Reason codes: stable (stored, exported, filtered on); the messages may be reworded.
NOT_EVALUABLE_NO_DAY1_SOFA: Final = "no_day1_sofa"
NOT_IN_MITT_NO_DOSE: Final = "no_dose"
REASON_MESSAGES: Final[Mapping[str, str]] = {
    NOT_EVALUABLE_NO_DAY1_SOFA: "No day-1 SOFA: no submitted baseline SOFA form, so the participant is not "
                                "evaluable and counts as a non-responder in the primary analysis.",
    NOT_IN_MITT_NO_DOSE: "No dose of study drug received yet: outside the mITT population until a given "
                         "dose is submitted.",
}


def reason_message(code: str | None) -> str:
    """The human message of a reason code ('' for no reason; the code itself if unknown)."""
    if not code:
        return ""
    return REASON_MESSAGES.get(code, code)

FillSource = Literal["observed", "death", "locf", "missing"]
SOURCE_OBSERVED: Final = "observed"
SOURCE_DEATH: Final = "death"
SOURCE_LOCF: Final = "locf"
# Only when there is no day-1 form: days before the first form stay unfilled (not guessed).
SOURCE_MISSING: Final = "missing"


@dataclass(frozen=True)
class SofaRecord:
    """One SOFA form as the derivation sees it: its study day, stored total and entry status."""

    day: int
    total: int | None
    status: str


def observed_sofa(records: Iterable[SofaRecord]) -> dict[int, int]:
    """Study day -> total of the observed days: only submitted forms with a score are data (a
    draft, retracted or "not done" form is no observed day; the gap is filled by LOCF)."""
    observed: dict[int, int] = {}
    for record in records:
        if record.status != DATA_STATUS or record.total is None:
            continue
        if record.day in observed:
            raise ValueError(f"Two submitted SOFA forms for day {record.day}.")
        observed[record.day] = record.total
    return observed


@dataclass(frozen=True)
class FilledDay:
    day: int
    score: int | None
    source: FillSource
    carried_from_day: int | None = None  # the observed day a LOCF value comes from


@dataclass(frozen=True)
class SofaEndpoints:
    """One participant's SOFA endpoints. Responses and means are None when not evaluable."""

    evaluable: bool
    not_evaluable_reason: str | None
    filled_series: tuple[FilledDay, ...]  # days 1..protocol.secondary_last_day
    # Primary: day 1 - mean(days 2..9).
    primary_response: Decimal | None
    primary_response_exact: Fraction | None
    responder: bool | None
    # Secondary: day 1 - mean(days 2..15).
    secondary_response: Decimal | None
    secondary_response_exact: Fraction | None
    secondary_responder: bool | None
    # Secondary: mean SOFA days 1..9 among participants alive on day 9 (None otherwise).
    alive_on_day9: bool
    mean_sofa_days_1_9: Decimal | None
    mean_sofa_days_1_9_exact: Fraction | None
    # Analysis population (mITT): randomized and received at least one dose.
    mitt: bool
    mitt_reason: str | None  # why not in the mITT (NOT_IN_MITT_NO_DOSE), None when in it
    # SAP: in the primary analysis a not-evaluable participant counts as a non-responder; a
    # participant outside the mITT population is not in the analysis and never counts.
    counts_as_responder_in_analysis: bool

    def series_scores(self) -> dict[int, int | None]:
        return {d.day: d.score for d in self.filled_series}


def fill_sofa_series(
    *,
    sofa_by_day: Mapping[int, int],
    death_day: int | None,
    last_day: int,
    death_score: int,
) -> tuple[FilledDay, ...]:
    """Days 1..last_day filled by the SAP rules: death first, then observed, then LOCF.

    SAP: from the day of death on, every day counts ``death_score``, the day of death included
    (a form recorded on or after that day is overridden), except the baseline: day 1's SOFA is
    the worst of the 24 hours before randomization, observed before any death, so it is kept
    (a death on day 1 makes days 2.. count 24). Any other missing day carries the last observed
    day forward. Days before the first form stay 'missing' (never guessed); with a day-1 form
    there are none.
    """
    series: list[FilledDay] = []
    last_observed: tuple[int, int] | None = None  # (day, score)
    for day in range(BASELINE_DAY, last_day + 1):
        if death_day is not None and day >= death_day and day != BASELINE_DAY:
            series.append(FilledDay(day, death_score, SOURCE_DEATH))
        elif day in sofa_by_day:
            last_observed = (day, sofa_by_day[day])
            series.append(FilledDay(day, sofa_by_day[day], SOURCE_OBSERVED))
        elif last_observed is not None:
            series.append(FilledDay(day, last_observed[1], SOURCE_LOCF, last_observed[0]))
        else:
            series.append(FilledDay(day, None, SOURCE_MISSING))
    return tuple(series)


def _window(series: tuple[FilledDay, ...], first: int, last: int) -> list[int]:
    scores = [d.score for d in series if first <= d.day <= last]
    if any(s is None for s in scores) or len(scores) != last - first + 1:
        raise ValueError(f"Days {first}..{last} are not all filled.")
    return [s for s in scores if s is not None]


def _mean(values: list[int]) -> Fraction:
    return Fraction(sum(values), len(values))


def fraction_to_decimal(value: Fraction) -> Decimal:
    """Exact when the fraction has a finite decimal expansion, else rounded to DECIMAL_PLACES."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    if denominator == 1:
        return exact  # terminating: Decimal division is exact within its 28 digits here
    return exact.quantize(DECIMAL_PLACES, rounding=ROUND_HALF_EVEN)


def _validate(sofa_by_day: Mapping[int, int], death_day: int | None, protocol: Protocol) -> None:
    for day, score in sofa_by_day.items():
        if isinstance(day, bool) or not isinstance(day, int):
            raise TypeError(f"SOFA day must be a whole number, got {day!r}.")
        if not BASELINE_DAY <= day <= protocol.sofa_days:
            raise ValueError(f"SOFA day {day} is outside days 1..{protocol.sofa_days}.")
        if isinstance(score, bool) or not isinstance(score, int):
            raise TypeError(f"SOFA total of day {day} must be a whole number, got {score!r}.")
        if not 0 <= score <= protocol.death_sofa_score:
            raise ValueError(
                f"SOFA total of day {day} must be 0..{protocol.death_sofa_score}, got {score}."
            )
    if death_day is not None and (
        isinstance(death_day, bool) or not isinstance(death_day, int) or death_day < BASELINE_DAY
    ):
        raise ValueError(f"Day of death must be a study day >= 1, got {death_day!r}.")


def derive_sofa_endpoints(
    *,
    sofa_by_day: Mapping[int, int],
    death_day: int | None,
    received_any_dose: bool,
    protocol: Protocol = DEFAULT_PROTOCOL,
) -> SofaEndpoints:
    """A participant's SOFA endpoints (trial.md "Primary endpoint", "Secondary endpoints").

    ``sofa_by_day``: study day -> total SOFA, only for days with a form. ``death_day``: the
    study day of death, or None. ``received_any_dose``: at least one dose of study drug (mITT).
    """
    _validate(sofa_by_day, death_day, protocol)
    last_day = max(protocol.secondary_last_day, protocol.primary_last_day)
    series = fill_sofa_series(
        sofa_by_day=sofa_by_day,
        death_day=death_day,
        last_day=last_day,
        death_score=protocol.death_sofa_score,
    )
    mitt = bool(received_any_dose)
    mitt_reason = None if mitt else NOT_IN_MITT_NO_DOSE
    # Alive on day 9: the day of death counts as dead (it scores 24, trial.md).
    alive_day = protocol.primary_last_day
    alive_on_day9 = death_day is None or death_day > alive_day

    # SAP: no day-1 SOFA form at all -> not evaluable; report it, do not guess.
    if BASELINE_DAY not in sofa_by_day:
        return SofaEndpoints(
            evaluable=False,
            not_evaluable_reason=NOT_EVALUABLE_NO_DAY1_SOFA,
            filled_series=series,
            primary_response=None,
            primary_response_exact=None,
            responder=None,
            secondary_response=None,
            secondary_response_exact=None,
            secondary_responder=None,
            alive_on_day9=alive_on_day9,
            mean_sofa_days_1_9=None,
            mean_sofa_days_1_9_exact=None,
            mitt=mitt,
            mitt_reason=mitt_reason,
            # SAP: a not-evaluable participant counts as a non-responder.
            counts_as_responder_in_analysis=False,
        )

    baseline = series[0].score
    assert baseline is not None  # day 1 has a form, and the death rule never replaces it
    threshold = Fraction(protocol.responder_threshold)

    # SAP: response = SOFA(day 1) - mean(days 2..9), eight values; responder if > 1.4 strictly.
    primary = baseline - _mean(
        _window(series, protocol.primary_first_day, protocol.primary_last_day)
    )
    responder = primary > threshold
    # Secondary: the same response over days 2..15 (fourteen values).
    secondary = baseline - _mean(
        _window(series, protocol.primary_first_day, protocol.secondary_last_day)
    )
    # Secondary: mean SOFA days 1..9 among participants alive on day 9. Missing days inside the
    # window are filled by LOCF, as for the primary endpoint; a death by day 9 excludes.
    mean_1_9: Fraction | None = None
    if alive_on_day9:
        mean_1_9 = _mean(_window(series, BASELINE_DAY, protocol.primary_last_day))

    return SofaEndpoints(
        evaluable=True,
        not_evaluable_reason=None,
        filled_series=series,
        primary_response=fraction_to_decimal(primary),
        primary_response_exact=primary,
        responder=responder,
        secondary_response=fraction_to_decimal(secondary),
        secondary_response_exact=secondary,
        secondary_responder=secondary > threshold,
        alive_on_day9=alive_on_day9,
        mean_sofa_days_1_9=None if mean_1_9 is None else fraction_to_decimal(mean_1_9),
        mean_sofa_days_1_9_exact=mean_1_9,
        mitt=mitt,
        mitt_reason=mitt_reason,
        counts_as_responder_in_analysis=mitt and responder,
    )


__all__ = [
    "DATA_STATUS",
    "NOT_EVALUABLE_NO_DAY1_SOFA",
    "NOT_IN_MITT_NO_DOSE",
    "REASON_MESSAGES",
    "FilledDay",
    "SofaEndpoints",
    "SofaRecord",
    "derive_sofa_endpoints",
    "fill_sofa_series",
    "fraction_to_decimal",
    "observed_sofa",
    "reason_message",
]
