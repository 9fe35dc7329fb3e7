"""SOFA scoring (reference/sofa.md): band edges, caps, combinations, validation, missing data."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.sofa.scoring import (
    COMPONENTS,
    SofaInputError,
    SofaInputs,
    SofaScore,
    cardiovascular_score,
    cns_score,
    coagulation_score,
    creatinine_score,
    liver_score,
    normalize,
    observed_subscores,
    renal_score,
    respiration_score,
    score_day,
    soft_flags,
    urine_output_score,
    validate_inputs,
)

D = Decimal


def full_inputs(**overrides: object) -> SofaInputs:
    """A complete, normal day (every component observed, total 0)."""
    base = SofaInputs(
        pao2=D("95"),
        pao2_unit="mmHg",
        fio2=D("0.21"),
        respiratory_support="none",
        platelets=D("250"),
        bilirubin=D("0.8"),
        bilirubin_unit="mg/dL",
        map=D("80"),
        gcs=15,
        gcs_sedated=False,
        creatinine=D("0.9"),
        creatinine_unit="mg/dL",
        urine_output=D("1500"),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


# --- Respiration --------------------------------------------------------------------------------


def _pao2_mmhg(pao2: str, unit: str) -> Decimal:
    return D(pao2) * D("7.50062") if unit == "kPa" else D(pao2)


@pytest.mark.parametrize(
    ("pao2", "unit", "fio2", "expected"),
    [
        # mmHg, FiO2 0.5: the ratio edges 400/300/200/100 fall at PaO2 200/150/100/50.
        ("200", "mmHg", "0.5", 0),
        ("199.9", "mmHg", "0.5", 1),
        ("150", "mmHg", "0.5", 1),
        ("149.9", "mmHg", "0.5", 2),
        ("100", "mmHg", "0.5", 2),
        ("99.9", "mmHg", "0.5", 3),
        ("50", "mmHg", "0.5", 3),
        ("49.9", "mmHg", "0.5", 4),
        # Exact ratio at FiO2 0.3 (120 / 0.3 = 400): no rounding nudges it below 400.
        ("120", "mmHg", "0.3", 0),
        # kPa x 7.50062: 26.67 kPa -> 200.04 mmHg (ratio 400.08), 26.66 -> 199.97 (399.93).
        ("26.67", "kPa", "0.5", 0),
        ("26.66", "kPa", "0.5", 1),
        ("20.00", "kPa", "0.5", 1),
        ("19.99", "kPa", "0.5", 2),
        ("13.34", "kPa", "0.5", 2),
        ("13.33", "kPa", "0.5", 3),
        ("6.67", "kPa", "0.5", 3),
        ("6.66", "kPa", "0.5", 4),
    ],
)
def test_respiration_band_edges_with_support(
    pao2: str, unit: str, fio2: str, expected: int
) -> None:
    score = respiration_score(
        pao2_mmhg=_pao2_mmhg(pao2, unit), fio2=D(fio2), respiratory_support="invasive"
    )
    assert score == expected
    day = score_day(
        SofaInputs(pao2=D(pao2), pao2_unit=unit, fio2=D(fio2), respiratory_support="invasive"),
        day=1,
        previous=None,
    )
    assert day.respiration == expected


@pytest.mark.parametrize(
    ("pao2", "fio2", "support", "expected"),
    [
        # sofa.md: without respiratory support the score is at most 2, however low the ratio.
        ("50", "1.0", "none", 2),
        ("50", "1.0", "non_invasive", 4),
        ("50", "1.0", "invasive", 4),
        ("150", "1.0", "none", 2),
        ("150", "1.0", "non_invasive", 3),
        ("150", "1.0", "invasive", 3),
        ("250", "1.0", "none", 2),
        ("350", "1.0", "none", 1),
        ("400", "1.0", "none", 0),
    ],
)
def test_respiration_cap_without_support(pao2: str, fio2: str, support: str, expected: int) -> None:
    assert (
        respiration_score(pao2_mmhg=D(pao2), fio2=D(fio2), respiratory_support=support) == expected
    )


# --- Coagulation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platelets", "expected"),
    [
        ("150", 0),
        ("149.9", 1),
        ("149", 1),
        ("100", 1),
        ("99", 2),
        ("50", 2),
        ("49", 3),
        ("20", 3),
        ("19", 4),
        ("0", 4),
    ],
)
def test_coagulation_band_edges(platelets: str, expected: int) -> None:
    assert coagulation_score(platelets=D(platelets)) == expected


# --- Liver --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bilirubin", "unit", "expected"),
    [
        # mg/dL, contiguous intervals [1.2, 2.0) [2.0, 6.0) [6.0, 12.0) >= 12.0 (sofa.md).
        ("1.19", "mg/dL", 0),
        ("1.2", "mg/dL", 1),
        ("1.95", "mg/dL", 1),  # between printed bands: [1.2, 2.0) -> 1
        ("1.99", "mg/dL", 1),
        ("2.0", "mg/dL", 2),
        ("5.99", "mg/dL", 2),
        ("6.0", "mg/dL", 3),
        ("11.99", "mg/dL", 3),
        ("12.0", "mg/dL", 4),
        # umol/L: < 20, [20, 33), [33, 102), [102, 204], > 204.
        ("19.9", "umol/L", 0),
        ("20", "umol/L", 1),
        ("32.9", "umol/L", 1),
        ("33", "umol/L", 2),
        ("101.9", "umol/L", 2),
        ("102", "umol/L", 3),
        ("204", "umol/L", 3),
        ("204.1", "umol/L", 4),
    ],
)
def test_liver_band_edges_in_the_unit_entered(bilirubin: str, unit: str, expected: int) -> None:
    assert liver_score(bilirubin=D(bilirubin), unit=unit) == expected
    day = score_day(SofaInputs(bilirubin=D(bilirubin), bilirubin_unit=unit), day=1, previous=None)
    assert day.liver == expected


# --- Cardiovascular -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"map_mmhg": "70"}, 0),
        ({"map_mmhg": "69.9"}, 1),
        ({"dopamine": "0"}, 0),
        ({"dopamine": "0.1"}, 2),
        ({"dopamine": "5"}, 2),  # sofa.md: dopamine <= 5 -> 2
        ({"dopamine": "5.1"}, 3),
        ({"dopamine": "15"}, 3),
        ({"dopamine": "15.1"}, 4),
        ({"dobutamine": "0"}, 0),
        ({"dobutamine": "0.01"}, 2),  # any dose
        ({"dobutamine": "20"}, 2),
        ({"epinephrine": "0"}, 0),
        ({"epinephrine": "0.01"}, 3),
        ({"epinephrine": "0.1"}, 3),
        ({"epinephrine": "0.11"}, 4),
        ({"norepinephrine": "0"}, 0),
        ({"norepinephrine": "0.01"}, 3),
        ({"norepinephrine": "0.1"}, 3),
        ({"norepinephrine": "0.11"}, 4),
    ],
)
def test_cardiovascular_band_edges(kwargs: dict[str, str], expected: int) -> None:
    assert cardiovascular_score(**{k: D(v) for k, v in kwargs.items()}) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # The highest criterion any agent or the MAP reaches.
        ({"map_mmhg": "60", "dobutamine": "5"}, 2),
        ({"map_mmhg": "60", "dobutamine": "5", "norepinephrine": "0.05"}, 3),
        ({"map_mmhg": "75", "dopamine": "3", "epinephrine": "0.2"}, 4),
        ({"map_mmhg": "55", "dopamine": "16", "norepinephrine": "0.05"}, 4),
        ({"map_mmhg": "65", "dopamine": "0", "norepinephrine": "0"}, 1),
        ({"dopamine": "6", "dobutamine": "10"}, 3),
    ],
)
def test_cardiovascular_takes_the_highest_criterion(kwargs: dict[str, str], expected: int) -> None:
    assert cardiovascular_score(**{k: D(v) for k, v in kwargs.items()}) == expected


# --- CNS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gcs", "expected"),
    [(15, 0), (14, 1), (13, 1), (12, 2), (10, 2), (9, 3), (6, 3), (5, 4), (3, 4)],
)
def test_cns_band_edges(gcs: int, expected: int) -> None:
    assert cns_score(gcs=gcs) == expected


# --- Renal --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creatinine", "unit", "expected"),
    [
        # mg/dL [1.2, 2.0) [2.0, 3.5) [3.5, 5.0) >= 5.0 (sofa.md).
        ("1.19", "mg/dL", 0),
        ("1.2", "mg/dL", 1),
        ("1.99", "mg/dL", 1),
        ("2.0", "mg/dL", 2),
        ("3.49", "mg/dL", 2),
        ("3.5", "mg/dL", 3),
        ("4.99", "mg/dL", 3),
        ("5.0", "mg/dL", 4),
        # umol/L < 110, [110, 171), [171, 300), [300, 440], > 440.
        ("109.9", "umol/L", 0),
        ("110", "umol/L", 1),
        ("170.9", "umol/L", 1),
        ("171", "umol/L", 2),
        ("299.9", "umol/L", 2),
        ("300", "umol/L", 3),
        ("440", "umol/L", 3),
        ("440.1", "umol/L", 4),
    ],
)
def test_creatinine_band_edges_in_the_unit_entered(
    creatinine: str, unit: str, expected: int
) -> None:
    assert creatinine_score(creatinine=D(creatinine), unit=unit) == expected


@pytest.mark.parametrize(("umol", "mg"), [("107", "1.21"), ("108", "1.22"), ("109", "1.23")])
def test_creatinine_units_do_not_coincide_near_110_umol(umol: str, mg: str) -> None:
    # sofa.md: 107-109 umol/L scores 0, the same concentration in mg/dL (1.21-1.23) scores 1.
    assert normalize(
        SofaInputs(creatinine=D(umol), creatinine_unit="umol/L")
    ).creatinine_mg_dl == D(mg)
    assert creatinine_score(creatinine=D(umol), unit="umol/L") == 0
    assert creatinine_score(creatinine=D(mg), unit="mg/dL") == 1


@pytest.mark.parametrize(
    ("urine", "expected"),
    [("500", 0), ("499.9", 3), ("200", 3), ("199.9", 4), ("0", 4), ("3000", 0)],
)
def test_urine_output_band_edges(urine: str, expected: int) -> None:
    assert urine_output_score(urine_output=D(urine)) == expected


@pytest.mark.parametrize(
    ("creatinine", "unit", "urine", "expected"),
    [
        # sofa.md: the renal score is the worse of the creatinine and urine-output scores.
        ("1.5", "mg/dL", "150", 4),
        ("6.0", "mg/dL", "1000", 4),
        ("2.5", "mg/dL", "400", 3),
        ("250", "umol/L", "600", 2),
        ("250", "umol/L", "450", 3),
        (None, None, "450", 3),
        ("0.8", "mg/dL", None, 0),
    ],
)
def test_renal_is_the_worse_of_creatinine_and_urine(
    creatinine: str | None, unit: str | None, urine: str | None, expected: int
) -> None:
    kwargs = {
        "creatinine": None if creatinine is None else D(creatinine),
        "creatinine_unit": unit,
        "urine_output": None if urine is None else D(urine),
    }
    assert renal_score(**kwargs) == expected  # type: ignore[arg-type]
    assert score_day(SofaInputs(**kwargs), day=1, previous=None).renal == expected  # type: ignore[arg-type]


# --- Normalization ------------------------------------------------------------------------------


def test_normalize_converts_to_reference_units() -> None:
    values = normalize(
        SofaInputs(
            pao2=D("10"),
            pao2_unit="kPa",
            fio2=D("0.5"),
            bilirubin=D("34.2"),
            bilirubin_unit="umol/L",
            creatinine=D("176.8"),
            creatinine_unit="umol/L",
        )
    )
    assert values.pao2_mmhg == D("75.01")  # 75.0062
    assert values.pf_ratio == D("150.01")  # 150.0124
    assert values.bilirubin_mg_dl == D("2.00")
    assert values.creatinine_mg_dl == D("2.00")


def test_normalize_keeps_mg_dl_and_mmhg() -> None:
    values = normalize(full_inputs())
    assert values.pao2_mmhg == D("95.00")
    assert values.bilirubin_mg_dl == D("0.80")
    assert values.creatinine_mg_dl == D("0.90")


# --- Validation (hard limits) -------------------------------------------------------------------


def test_a_normal_day_has_no_errors_and_no_flags() -> None:
    assert validate_inputs(full_inputs()) == {}
    assert soft_flags(full_inputs()) == {}
    assert validate_inputs(SofaInputs()) == {}


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"fio2": D("40")}, "fio2", "percentage"),
        ({"fio2": D("40")}, "fio2", "0.40"),
        ({"fio2": D("21")}, "fio2", "percentage"),
        ({"fio2": D("100")}, "fio2", "percentage"),
        ({"fio2": D("0.2")}, "fio2", "room air"),
        ({"fio2": D("1.01")}, "fio2", "0.21 to 1.0"),
        ({"fio2": D("-0.3")}, "fio2", "negative"),
        ({"gcs": 2}, "gcs", "3 to 15"),
        ({"gcs": 16}, "gcs", "3 to 15"),
        ({"gcs": 0}, "gcs", "3 to 15"),
        ({"platelets": D("-1")}, "platelets", "negative"),
        ({"platelets": D("150000")}, "platelets", "x10^3/uL"),
        ({"map": D("-5")}, "map", "negative"),
        ({"map": D("400")}, "map", "20 to 250"),
        ({"urine_output": D("-10")}, "urine_output", "negative"),
        ({"urine_output": D("25000")}, "urine_output", "impossible"),
        ({"norepinephrine": D("-0.1")}, "norepinephrine", "negative"),
        ({"norepinephrine": D("10")}, "norepinephrine", "ug/kg/min"),
        ({"dopamine": D("80")}, "dopamine", "ug/kg/min"),
        ({"dobutamine": D("50")}, "dobutamine", "ug/kg/min"),
        ({"epinephrine": D("6")}, "epinephrine", "ug/kg/min"),
        ({"pao2": D("900")}, "pao2", "impossible"),
        ({"pao2": D("9")}, "pao2", "kPa"),  # 9 mmHg: the value was probably kPa
        ({"pao2": D("200"), "pao2_unit": "kPa"}, "pao2", "mmHg"),
        ({"pao2_unit": "torr"}, "pao2_unit", "mmHg or kPa"),
        ({"pao2_unit": None}, "pao2_unit", "without a unit"),
        ({"bilirubin_unit": "mg/dl"}, "bilirubin_unit", "mg/dL or umol/L"),
        ({"bilirubin_unit": None}, "bilirubin_unit", "without a unit"),
        ({"bilirubin": D("150")}, "bilirubin", "umol/L"),
        ({"bilirubin": D("2000"), "bilirubin_unit": "umol/L"}, "bilirubin", "impossible"),
        ({"bilirubin": D("-1")}, "bilirubin", "negative"),
        ({"creatinine_unit": "mmol/L"}, "creatinine_unit", "mg/dL or umol/L"),
        ({"creatinine_unit": None}, "creatinine_unit", "without a unit"),
        ({"creatinine": D("0")}, "creatinine", "above 0"),
        ({"creatinine": D("45")}, "creatinine", "umol/L"),
        ({"creatinine": D("3000"), "creatinine_unit": "umol/L"}, "creatinine", "impossible"),
        ({"respiratory_support": "cpap"}, "respiratory_support", "non_invasive"),
        ({"respiratory_support": None}, "respiratory_support", "required"),
        # The message of a missing choice names the choices as the form labels them, not by code.
        ({"respiratory_support": None}, "respiratory_support", "choose none, non-invasive (NIV or CPAP) or invasive ventilation"),
        ({"fio2": None}, "fio2", "without FiO2"),
        ({"pao2": None}, "pao2", "without PaO2"),
        ({"platelets": 150.0}, "platelets", "decimal number"),
        ({"platelets": D("NaN")}, "platelets", "finite"),
        ({"gcs": 14.5}, "gcs", "whole number"),
        ({"gcs_sedated": "yes"}, "gcs_sedated", "true"),
    ],
)
def test_validation_errors_name_the_field_and_the_fix(
    overrides: dict[str, object], field: str, fragment: str
) -> None:
    errors = validate_inputs(full_inputs(**overrides))
    assert field in errors, errors
    assert fragment in errors[field]


@pytest.mark.parametrize(
    "overrides",
    [
        {"fio2": D("0.21")},
        {"fio2": D("1.0")},
        {"gcs": 3},
        {"gcs": 15},
        {"platelets": D("0")},
        {"urine_output": D("0")},
        {"norepinephrine": D("0")},
        {"pao2": D("10"), "pao2_unit": "kPa"},
        {"bilirubin_unit": "umol/L", "bilirubin": D("15")},
        {"bilirubin": None, "bilirubin_unit": "mg/dL"},  # a unit alone is a harmless default
    ],
)
def test_valid_edges_are_accepted(overrides: dict[str, object]) -> None:
    assert validate_inputs(full_inputs(**overrides)) == {}


def test_score_day_refuses_inputs_with_hard_errors() -> None:
    with pytest.raises(SofaInputError) as excinfo:
        score_day(full_inputs(fio2=D("40")), day=1, previous=None)
    assert "fio2" in excinfo.value.errors


# --- Soft flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"pao2": D("30")}, "pao2", "kPa"),
        ({"pao2": D("550")}, "pao2", "high"),
        ({"pao2": D("70"), "pao2_unit": "kPa"}, "pao2", "mmHg"),
        ({"fio2": D("0.8"), "respiratory_support": "none"}, "fio2", "respiratory support"),
        ({"platelets": D("1200")}, "platelets", "high"),
        ({"platelets": D("3")}, "platelets", "low"),
        ({"bilirubin": D("40")}, "bilirubin", "umol/L"),
        ({"map": D("35")}, "map", "low"),
        ({"map": D("170")}, "map", "high"),
        ({"norepinephrine": D("1.5")}, "norepinephrine", "high"),
        ({"epinephrine": D("1.2")}, "epinephrine", "high"),
        ({"dopamine": D("25")}, "dopamine", "high"),
        ({"creatinine": D("20")}, "creatinine", "umol/L"),
        ({"creatinine": D("0.2")}, "creatinine", "low"),
        ({"creatinine": D("15"), "creatinine_unit": "umol/L"}, "creatinine", "mg/dL"),
        ({"urine_output": D("9000")}, "urine_output", "high"),
    ],
)
def test_soft_flags_for_review(overrides: dict[str, object], field: str, fragment: str) -> None:
    inputs = full_inputs(**overrides)
    assert validate_inputs(inputs) == {}
    flags = soft_flags(inputs)
    assert field in flags, flags
    assert fragment in flags[field]


def test_soft_flags_skip_fields_with_hard_errors() -> None:
    assert "fio2" not in soft_flags(full_inputs(fio2=D("40")))


# --- Missing components -------------------------------------------------------------------------


def test_day1_missing_components_count_as_normal() -> None:
    score = score_day(SofaInputs(platelets=D("40")), day=1, previous=None)
    assert score.coagulation == 3
    assert score.total == 3
    assert set(score.missing) == set(COMPONENTS) - {"coagulation"}
    assert score.imputed == {c: "normal" for c in COMPONENTS if c != "coagulation"}


def test_an_empty_day1_scores_zero_with_everything_imputed() -> None:
    score = score_day(SofaInputs(), day=1, previous=None)
    assert score.total == 0
    assert score.missing == COMPONENTS
    assert set(score.imputed.values()) == {"normal"}


def test_later_days_carry_missing_components_forward() -> None:
    day1 = score_day(
        full_inputs(platelets=D("40"), gcs=8, creatinine=D("2.5")), day=1, previous=None
    )
    assert (day1.coagulation, day1.cns, day1.renal, day1.total) == (3, 3, 2, 8)
    day3 = score_day(SofaInputs(platelets=D("120")), day=3, previous=day1)
    assert day3.coagulation == 1
    assert day3.cns == 3 and day3.renal == 2
    assert day3.total == 1 + 3 + 2
    assert day3.imputed["cns"] == "carried_forward_day_1"
    assert "coagulation" not in day3.imputed
    # The label keeps the day the value was observed on, not the day carried from.
    day4 = score_day(SofaInputs(gcs=14), day=4, previous=day3)
    assert day4.cns == 1
    assert day4.coagulation == 1
    assert day4.renal == 2
    assert day4.imputed["coagulation"] == "carried_forward_day_3"
    assert day4.imputed["renal"] == "carried_forward_day_1"


def test_later_day_without_previous_counts_normal() -> None:
    score = score_day(SofaInputs(gcs=12), day=2, previous=None)
    assert score.total == 2
    assert score.imputed["renal"] == "normal"


def test_carrying_an_imputed_normal_stays_normal() -> None:
    day1 = score_day(SofaInputs(gcs=12), day=1, previous=None)
    day2 = score_day(SofaInputs(gcs=12), day=2, previous=day1)
    assert day2.imputed["renal"] == "normal"
    assert day2.renal == 0


@pytest.mark.parametrize(
    ("inputs", "observed"),
    [
        (SofaInputs(norepinephrine=D("0.05")), {"cardiovascular": 3}),
        (SofaInputs(map=D("65")), {"cardiovascular": 1}),
        (SofaInputs(dopamine=D("0")), {"cardiovascular": 0}),  # a 0 dose is an observation
        (SofaInputs(urine_output=D("300")), {"renal": 3}),
        (SofaInputs(creatinine=D("1.5"), creatinine_unit="mg/dL"), {"renal": 1}),
        (
            SofaInputs(
                pao2=D("80"), pao2_unit="mmHg", fio2=D("0.4"), respiratory_support="invasive"
            ),
            {"respiration": 2},
        ),
        (SofaInputs(gcs_sedated=True, bilirubin_unit="mg/dL"), {}),
    ],
)
def test_what_makes_a_component_observed(inputs: SofaInputs, observed: dict[str, int]) -> None:
    result = observed_subscores(inputs)
    assert {k: v for k, v in result.items() if v is not None} == observed


def test_score_day_refuses_a_previous_from_the_same_or_later_day() -> None:
    day2 = score_day(SofaInputs(), day=2, previous=None)
    with pytest.raises(ValueError, match="before day 2"):
        score_day(SofaInputs(), day=2, previous=day2)
    with pytest.raises(ValueError, match="start at 1"):
        score_day(SofaInputs(), day=0, previous=None)


# --- Properties ---------------------------------------------------------------------------------


def _dec(low: str, high: str, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False
    )


# Valid ranges per (field, unit), inside the hard limits.
RANGES: dict[tuple[str, str | None], tuple[str, str]] = {
    ("pao2", "mmHg"): ("15", "800"),
    ("pao2", "kPa"): ("2", "106.7"),
    ("fio2", None): ("0.21", "1.0"),
    ("platelets", None): ("0", "2000"),
    ("bilirubin", "mg/dL"): ("0", "100"),
    ("bilirubin", "umol/L"): ("0", "1710"),
    ("map", None): ("20", "250"),
    ("dopamine", None): ("0", "50"),
    ("dobutamine", None): ("0", "40"),
    ("epinephrine", None): ("0", "5"),
    ("norepinephrine", None): ("0", "5"),
    ("creatinine", "mg/dL"): ("0.01", "30"),
    ("creatinine", "umol/L"): ("1", "2652"),
    ("urine_output", None): ("0", "20000"),
}
# +1: a higher value is worse; -1: a lower value is worse.
WORSE_DIRECTION: dict[str, int] = {
    "pao2": -1,
    "fio2": +1,
    "platelets": -1,
    "bilirubin": +1,
    "map": -1,
    "dopamine": +1,
    "dobutamine": +1,
    "epinephrine": +1,
    "norepinephrine": +1,
    "gcs": -1,
    "creatinine": +1,
    "urine_output": -1,
}
UNIT_FIELD = {"pao2": "pao2_unit", "bilirubin": "bilirubin_unit", "creatinine": "creatinine_unit"}
SUPPORT_ORDER = ("none", "non_invasive", "invasive")


@st.composite
def sofa_inputs(draw: st.DrawFn) -> SofaInputs:
    values: dict[str, object] = {}
    units = {
        "pao2_unit": draw(st.sampled_from(["mmHg", "kPa"])),
        "bilirubin_unit": draw(st.sampled_from(["mg/dL", "umol/L"])),
        "creatinine_unit": draw(st.sampled_from(["mg/dL", "umol/L"])),
    }
    if draw(st.booleans()):  # respiration is all or nothing: PaO2 + FiO2 + support
        values["pao2"] = draw(_dec(*RANGES[("pao2", units["pao2_unit"])]))
        values["pao2_unit"] = units["pao2_unit"]
        values["fio2"] = draw(_dec(*RANGES[("fio2", None)]))
        values["respiratory_support"] = draw(st.sampled_from(SUPPORT_ORDER))
    for name in (
        "platelets",
        "bilirubin",
        "map",
        "dopamine",
        "dobutamine",
        "epinephrine",
        "norepinephrine",
        "creatinine",
        "urine_output",
    ):
        if draw(st.booleans()):
            unit_field = UNIT_FIELD.get(name)
            unit = units[unit_field] if unit_field else None
            values[name] = draw(_dec(*RANGES[(name, unit)]))
            if unit_field:
                values[unit_field] = unit
    if draw(st.booleans()):
        values["gcs"] = draw(st.integers(min_value=3, max_value=15))
    return SofaInputs(**values)  # type: ignore[arg-type]


@settings(deadline=None)
@given(inputs=sofa_inputs(), day=st.integers(min_value=1, max_value=15))
def test_total_is_the_sum_of_subscores(inputs: SofaInputs, day: int) -> None:
    assert validate_inputs(inputs) == {}
    score = score_day(inputs, day=day, previous=None)
    assert score.total == sum(score.subscore(c) for c in COMPONENTS)
    assert all(0 <= score.subscore(c) <= 4 for c in COMPONENTS)
    assert 0 <= score.total <= 24
    assert set(score.imputed) == set(score.missing)


@settings(deadline=None)
@given(inputs=sofa_inputs(), data=st.data())
def test_total_never_falls_when_a_raw_value_worsens(
    inputs: SofaInputs, data: st.DataObject
) -> None:
    present = [name for name in WORSE_DIRECTION if getattr(inputs, name) is not None]
    if inputs.respiratory_support is not None:
        present.append("respiratory_support")
    if not present:
        return
    name = data.draw(st.sampled_from(present))
    if name == "respiratory_support":
        current = SUPPORT_ORDER.index(inputs.respiratory_support or "none")
        worse: object = data.draw(st.sampled_from(SUPPORT_ORDER[current:]))
    elif name == "gcs":
        assert inputs.gcs is not None
        worse = data.draw(st.integers(min_value=3, max_value=inputs.gcs))
    else:
        value = getattr(inputs, name)
        unit_field = UNIT_FIELD.get(name)
        low, high = RANGES[(name, getattr(inputs, unit_field) if unit_field else None)]
        if WORSE_DIRECTION[name] > 0:
            worse = data.draw(_dec(str(value), high))
        else:
            worse = data.draw(_dec(low, str(value)))
    worsened = replace(inputs, **{name: worse})
    assert validate_inputs(worsened) == {}
    before = score_day(inputs, day=1, previous=None)
    after = score_day(worsened, day=1, previous=None)
    assert after.total >= before.total
    for component in COMPONENTS:
        assert after.subscore(component) >= before.subscore(component)


@settings(deadline=None)
@given(
    creatinine=_dec("0.01", "30"),
    bilirubin=_dec("0", "100"),
)
def test_scores_agree_across_units_except_near_band_edges(
    creatinine: Decimal, bilirubin: Decimal
) -> None:
    # Converting to umol/L changes the score by at most one band (the bands don't coincide).
    cr_umol = (creatinine * D("88.4")).quantize(D("0.1"))
    bili_umol = (bilirubin * D("17.1")).quantize(D("0.1"))
    assert (
        abs(
            creatinine_score(creatinine=creatinine, unit="mg/dL")
            - creatinine_score(creatinine=cr_umol, unit="umol/L")
        )
        <= 1
    )
    assert (
        abs(
            liver_score(bilirubin=bilirubin, unit="mg/dL")
            - liver_score(bilirubin=bili_umol, unit="umol/L")
        )
        <= 1
    )


@settings(deadline=None)
@given(inputs=sofa_inputs(), carried=st.integers(min_value=0, max_value=4))
def test_missing_components_carry_the_previous_subscore(inputs: SofaInputs, carried: int) -> None:
    previous = SofaScore(
        day=1,
        respiration=carried,
        coagulation=carried,
        liver=carried,
        cardiovascular=carried,
        cns=carried,
        renal=carried,
        total=6 * carried,
    )
    score = score_day(inputs, day=2, previous=previous)
    for component in score.missing:
        assert score.subscore(component) == carried
        assert score.imputed[component] == "carried_forward_day_1"
