"""SOFA endpoints (reference/trial.md "Primary endpoint", "Secondary endpoints")."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.sofa.endpoints import (
    NOT_EVALUABLE_NO_DAY1_SOFA,
    NOT_IN_MITT_NO_DOSE,
    REASON_MESSAGES,
    SofaEndpoints,
    SofaRecord,
    derive_sofa_endpoints,
    fraction_to_decimal,
    observed_sofa,
    reason_message,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL

D = Decimal


def series(day1: int, days_2_on: list[int]) -> dict[int, int]:
    return {1: day1, **{day: score for day, score in enumerate(days_2_on, start=2)}}


def derive(
    sofa: dict[int, int], *, death_day: int | None = None, dosed: bool = True
) -> SofaEndpoints:
    return derive_sofa_endpoints(sofa_by_day=sofa, death_day=death_day, received_any_dose=dosed)


def test_a_survivor_with_every_form() -> None:
    result = derive(series(10, [9, 8, 7, 6, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2]))
    assert result.evaluable and result.not_evaluable_reason is None
    # 10 - (9+8+7+6+5+4+3+2)/8 = 10 - 44/8 = 4.5
    assert result.primary_response == D("4.5")
    assert result.responder is True
    assert result.counts_as_responder_in_analysis is True
    assert result.mitt is True
    assert {d.source for d in result.filled_series} == {"observed"}
    assert [d.day for d in result.filled_series] == list(range(1, 16))
    # Days 2..15: 10 - (44 + 6*2)/14 = 10 - 4 = 6
    assert result.secondary_response == D("6")
    assert result.secondary_responder is True
    # Alive on day 9: mean of days 1..9 = (10 + 44)/9 = 6
    assert result.alive_on_day9 is True
    assert result.mean_sofa_days_1_9 == D("6")


def test_death_on_day5_counts_24_from_that_day() -> None:
    # trial.md: from the day of death on every day counts 24, the day of death included;
    # a form recorded on or after that day does not override it.
    result = derive({1: 10, 2: 10, 3: 10, 4: 10, 5: 9}, death_day=5)
    scores = result.series_scores()
    assert [scores[d] for d in range(5, 10)] == [24] * 5
    assert [scores[d] for d in range(1, 5)] == [10] * 4
    assert all(d.source == "death" for d in result.filled_series if d.day >= 5)
    # 10 - (3*10 + 5*24)/8 = 10 - 150/8 = -8.75
    assert result.primary_response == D("-8.75")
    assert result.responder is False
    assert result.alive_on_day9 is False
    assert result.mean_sofa_days_1_9 is None
    # Days 2..15: 10 - (30 + 11*24)/14 = 10 - 294/14 = -11
    assert result.secondary_response == D("-11")


def test_gaps_are_carried_forward_from_the_last_observed_day() -> None:
    result = derive({1: 12, 2: 10, 5: 6})
    filled = {d.day: d for d in result.filled_series}
    assert (filled[3].score, filled[3].source, filled[3].carried_from_day) == (10, "locf", 2)
    assert (filled[4].score, filled[4].source, filled[4].carried_from_day) == (10, "locf", 2)
    assert filled[5].source == "observed"
    assert all(filled[d].score == 6 and filled[d].carried_from_day == 5 for d in range(6, 16))
    # 12 - (10+10+10+6*5)/8 = 12 - 60/8 = 4.5
    assert result.primary_response == D("4.5")


def test_a_gap_right_after_day1_is_filled_from_day1() -> None:
    result = derive({1: 8, 6: 2})
    filled = {d.day: d for d in result.filled_series}
    assert all(filled[d].score == 8 and filled[d].carried_from_day == 1 for d in range(2, 6))
    # 8 - (4*8 + 4*2)/8 = 8 - 5 = 3
    assert result.primary_response == D("3")


def test_only_day1_is_carried_through_the_window() -> None:
    result = derive({1: 7})
    assert result.primary_response == D("0")
    assert result.responder is False


def test_no_day1_form_is_not_evaluable_and_counts_as_non_responder() -> None:
    result = derive({2: 5, 3: 4})
    assert result.evaluable is False
    assert result.not_evaluable_reason == NOT_EVALUABLE_NO_DAY1_SOFA == "no_day1_sofa"
    assert result.primary_response is None and result.responder is None
    assert result.secondary_response is None
    assert result.mean_sofa_days_1_9 is None
    # SAP: not evaluable -> a non-responder in the primary analysis, and still in the mITT.
    assert result.counts_as_responder_in_analysis is False
    assert result.mitt is True
    # Nothing is guessed before the first form.
    assert result.filled_series[0].source == "missing"
    assert result.filled_series[0].score is None


@pytest.mark.parametrize(
    ("day1", "days_2_9", "response", "responder"),
    [
        # Integer scores make the response a multiple of 1/8 (trial.md).
        (3, [2, 2, 2, 2, 2, 1, 1, 1], D("1.375"), False),  # 3 - 13/8
        (3, [2, 2, 2, 2, 1, 1, 1, 1], D("1.5"), True),  # 3 - 12/8
        (11, [10, 10, 10, 10, 9, 9, 9, 9], D("1.5"), True),
        (11, [10, 10, 10, 10, 10, 9, 9, 9], D("1.375"), False),
        (5, [5, 5, 5, 5, 5, 5, 5, 5], D("0"), False),
        (0, [1, 1, 1, 1, 1, 1, 1, 1], D("-1"), False),
    ],
)
def test_responder_threshold_is_strict(
    day1: int, days_2_9: list[int], response: Decimal, responder: bool
) -> None:
    result = derive(series(day1, days_2_9))
    assert result.primary_response == response
    assert result.primary_response_exact == Fraction(response)
    assert result.responder is responder
    assert result.counts_as_responder_in_analysis is responder


def test_never_dosed_is_outside_the_mitt_population() -> None:
    result = derive(series(10, [2] * 14), dosed=False)
    assert result.mitt is False
    assert result.responder is True  # the clinical response is still derived
    assert result.counts_as_responder_in_analysis is False  # but not in the mITT analysis


def test_days_2_to_15_variant_uses_fourteen_values() -> None:
    # 4 - (7*4 + 7*3)/14 = 4 - 49/14 = 0.5 ; the primary (days 2..9) is 4 - (7*4 + 3)/8.
    result = derive(series(4, [4] * 7 + [3] * 7))
    assert result.secondary_response_exact == Fraction(1, 2)
    assert result.secondary_response == D("0.5")
    assert result.primary_response_exact == Fraction(1, 8)
    # A non-terminating mean is exact as a fraction and rounded only in the Decimal view.
    result = derive(series(5, [4] * 13 + [3]))  # 5 - 55/14
    assert result.secondary_response_exact == Fraction(15, 14)
    assert result.secondary_response == D("1.071429")
    assert result.secondary_responder is False


@pytest.mark.parametrize(
    ("death_day", "alive", "mean"),
    [
        (None, True, D("4")),
        (10, True, D("4")),  # died after day 9: alive on day 9, days 1..9 unaffected
        (9, False, None),  # the day of death counts as dead (it scores 24)
        (3, False, None),
    ],
)
def test_mean_sofa_days_1_to_9_among_those_alive_on_day9(
    death_day: int | None, alive: bool, mean: Decimal | None
) -> None:
    # Forms on days 1, 4, 9 only: LOCF fills days 2-3 (from 1) and 5-8 (from 4).
    result = derive({1: 6, 4: 3, 9: 3}, death_day=death_day)
    assert result.alive_on_day9 is alive
    assert result.mean_sofa_days_1_9 == mean  # (6+6+6 + 3*6)/9 = 36/9 = 4


def test_mean_days_1_to_9_non_terminating_is_exact_as_a_fraction() -> None:
    result = derive({1: 5, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4, 7: 4, 8: 4, 9: 4})
    assert result.mean_sofa_days_1_9_exact == Fraction(37, 9)
    assert result.mean_sofa_days_1_9 == D("4.111111")


@pytest.mark.parametrize(
    ("sofa", "death_day", "day1", "response", "evaluable"),
    [
        # Trial team: day 1 is the worst of the 24 h before randomization, observed before the
        # death, so it is kept; days 2..9 count 24 (response = baseline - 24).
        ({1: 12}, 1, (12, "observed"), D("-12"), True),
        ({1: 0}, 1, (0, "observed"), D("-24"), True),
        ({1: 12, 2: 5, 3: 4}, 1, (12, "observed"), D("-12"), True),  # later forms overridden by 24
        ({1: 24}, 1, (24, "observed"), D("0"), True),
        # No day-1 form: still not evaluable, the death does not invent a baseline.
        ({2: 5}, 1, (None, "missing"), None, False),
        # A death on day 2 counts 24 from day 2, the day of death included.
        ({1: 10, 2: 8}, 2, (10, "observed"), D("-14"), True),
    ],
)
def test_a_death_on_day1_keeps_the_observed_baseline(
    sofa: dict[int, int], death_day: int, day1: tuple[int | None, str], response: Decimal | None, evaluable: bool
) -> None:
    result = derive(sofa, death_day=death_day)
    first = result.filled_series[0]
    assert (first.day, first.score, first.source) == (1, *day1)
    assert all((d.score, d.source) == (24, "death") for d in result.filled_series if d.day >= 2)
    assert result.evaluable is evaluable
    assert result.primary_response == response
    assert result.alive_on_day9 is False and result.mean_sofa_days_1_9 is None
    if evaluable:
        assert result.secondary_response == response  # days 2..15 all 24 as well
        assert result.responder is False


# --- Only submitted forms are data ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "observed"),
    [
        ([SofaRecord(1, 10, "submitted"), SofaRecord(2, 8, "submitted")], {1: 10, 2: 8}),
        ([SofaRecord(1, 10, "submitted"), SofaRecord(2, 8, "draft")], {1: 10}),
        ([SofaRecord(1, 10, "draft")], {}),
        ([SofaRecord(1, 10, "retracted"), SofaRecord(1, 9, "submitted")], {1: 9}),
        ([SofaRecord(1, 10, "not_done"), SofaRecord(3, 7, "submitted")], {3: 7}),
        ([SofaRecord(1, None, "submitted"), SofaRecord(2, 6, "submitted")], {2: 6}),  # no score: not observed
        ([], {}),
    ],
)
def test_only_submitted_sofa_forms_are_observed_days(records: list[SofaRecord], observed: dict[int, int]) -> None:
    assert observed_sofa(records) == observed


def test_a_draft_day_is_filled_by_locf_from_the_last_submitted_day() -> None:
    records = [SofaRecord(1, 10, "submitted"), SofaRecord(2, 3, "draft"), SofaRecord(4, 6, "submitted")]
    result = derive(observed_sofa(records))
    filled = {d.day: d for d in result.filled_series}
    assert (filled[2].score, filled[2].source, filled[2].carried_from_day) == (10, "locf", 1)
    # 10 - (10 + 10 + 6*6)/8 = 10 - 56/8 = 3
    assert result.primary_response == D("3")


def test_only_a_draft_day1_is_not_evaluable() -> None:
    result = derive(observed_sofa([SofaRecord(1, 10, "draft"), SofaRecord(2, 8, "submitted")]))
    assert result.evaluable is False and result.not_evaluable_reason == NOT_EVALUABLE_NO_DAY1_SOFA


def test_two_submitted_forms_of_one_day_are_refused() -> None:
    with pytest.raises(ValueError, match="Two submitted SOFA forms for day 2"):
        observed_sofa([SofaRecord(2, 8, "submitted"), SofaRecord(2, 9, "submitted")])


# --- Reasons: stable codes with human messages --------------------------------------------------


@pytest.mark.parametrize(
    ("sofa", "dosed", "not_evaluable", "not_in_mitt"),
    [
        ({}, False, "no_day1_sofa", "no_dose"),  # the record at randomization
        ({1: 8}, False, None, "no_dose"),
        ({2: 8}, True, "no_day1_sofa", None),
        ({1: 8}, True, None, None),
    ],
)
def test_what_a_record_lacks_is_given_as_a_reason_code(
    sofa: dict[int, int], dosed: bool, not_evaluable: str | None, not_in_mitt: str | None
) -> None:
    result = derive(sofa, dosed=dosed)
    assert result.not_evaluable_reason == not_evaluable and result.evaluable is (not_evaluable is None)
    assert result.mitt_reason == not_in_mitt and result.mitt is (not_in_mitt is None)


def test_each_reason_code_has_its_own_message() -> None:
    assert set(REASON_MESSAGES) == {NOT_EVALUABLE_NO_DAY1_SOFA, NOT_IN_MITT_NO_DOSE} == {"no_day1_sofa", "no_dose"}
    assert "no dose of study drug received yet" in reason_message(NOT_IN_MITT_NO_DOSE).lower()
    assert "no day-1 sofa" in reason_message(NOT_EVALUABLE_NO_DAY1_SOFA).lower()
    assert reason_message(None) == "" and reason_message("") == ""
    assert reason_message("some_later_code") == "some_later_code"


@pytest.mark.parametrize(
    ("sofa", "death_day", "match"),
    [
        ({0: 5}, None, "outside days"),
        ({16: 5}, None, "outside days"),
        ({1: 25}, None, "0..24"),
        ({1: -1}, None, "0..24"),
        ({1: True}, None, "whole number"),
        ({1: 5}, 0, "Day of death"),
    ],
)
def test_invalid_inputs_are_refused(
    sofa: dict[int, int], death_day: int | None, match: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        derive(sofa, death_day=death_day)


def test_fraction_to_decimal_is_exact_when_terminating() -> None:
    assert fraction_to_decimal(Fraction(11, 8)) == D("1.375")
    assert fraction_to_decimal(Fraction(-35, 4)) == D("-8.75")
    assert fraction_to_decimal(Fraction(1, 3)) == D("0.333333")


# --- Properties ---------------------------------------------------------------------------------

scores = st.integers(min_value=0, max_value=DEFAULT_PROTOCOL.death_sofa_score)


@st.composite
def participant(draw: st.DrawFn) -> tuple[dict[int, int], int | None]:
    days = draw(st.sets(st.integers(min_value=2, max_value=15)))
    sofa = {day: draw(scores) for day in days}
    if draw(st.booleans()):
        sofa[1] = draw(scores)
    death_day = draw(st.none() | st.integers(min_value=1, max_value=20))
    return sofa, death_day


@settings(deadline=None)
@given(case=participant(), dosed=st.booleans())
def test_endpoint_properties(case: tuple[dict[int, int], int | None], dosed: bool) -> None:
    sofa, death_day = case
    result = derive(sofa, death_day=death_day, dosed=dosed)
    filled = result.series_scores()
    assert list(filled) == list(range(1, 16))
    assert result.mitt is dosed
    assert filled[1] == sofa.get(1)  # the baseline is never replaced, not even by a death on day 1
    if death_day is not None:
        assert all(filled[d] == 24 for d in range(max(death_day, 2), 16))
    assert result.mitt_reason == (None if dosed else NOT_IN_MITT_NO_DOSE)
    if 1 not in sofa:
        assert result.evaluable is False
        assert result.counts_as_responder_in_analysis is False
        return
    # With a day-1 form every day is filled, and the response is day 1 - mean(days 2..9).
    assert all(score is not None for score in filled.values())
    values = [filled[d] for d in range(2, 10)]
    expected = Fraction(filled[1]) - Fraction(sum(values), 8)  # type: ignore[arg-type]
    assert result.primary_response_exact == expected
    assert result.primary_response == D(expected.numerator) / D(expected.denominator)
    assert result.responder is (expected > Fraction(14, 10))
    assert result.counts_as_responder_in_analysis is (dosed and result.responder)
    later = [filled[d] for d in range(2, 16)]
    assert result.secondary_response_exact == filled[1] - Fraction(sum(later), 14)  # type: ignore[arg-type,operator]
    assert (result.mean_sofa_days_1_9 is None) == (death_day is not None and death_day <= 9)
