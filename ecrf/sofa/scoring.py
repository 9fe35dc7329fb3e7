"""SOFA scoring: pure functions, no Django (reference/sofa.md).

The SOFA table (Vincent 1996, as tabulated in Sepsis-3) lives here as module-level band tables:
it is the definition of the score, not trial configuration. Each band reads "score applies when
value <op> bound"; bands are listed from the worst score down and the first match wins, so the
interval conventions of sofa.md ("Band edges") are visible in one place.

Arithmetic is exact: scores compare ``Fraction`` values built from the entered ``Decimal``s, so a
PaO2/FiO2 ratio of exactly 400 is never nudged to 399.999... by rounding. ``normalize`` rounds its
output for storage and display only; it never feeds the score.

Plausibility limits (judgement calls, documented in ``HARD_LIMITS`` and ``SOFT_LIMITS``):
hard limits reject values that are physiologically impossible or almost surely a unit mistake;
soft limits flag values that are possible but unusual, for the monitor to review.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Final, Literal

D = Decimal

# --- API codes (sofa.md "API codes") ------------------------------------------------------------

PAO2_UNITS: Final = ("mmHg", "kPa")
MASS_UNITS: Final = ("mg/dL", "umol/L")  # bilirubin_unit and creatinine_unit
RESPIRATORY_SUPPORT_CODES: Final = ("none", "non_invasive", "invasive")
# sofa.md: "respiratory support" = invasive or non-invasive ventilation (NIV, CPAP).
SUPPORTED_RESPIRATORY_CODES: Final = frozenset({"non_invasive", "invasive"})

PaO2Unit = Literal["mmHg", "kPa"]
MassUnit = Literal["mg/dL", "umol/L"]
RespiratorySupport = Literal["none", "non_invasive", "invasive"]

# --- Unit conversions (sofa.md "Unit conversions") ----------------------------------------------

PAO2_MMHG_PER_KPA: Final = D("7.50062")
BILIRUBIN_UMOL_L_PER_MG_DL: Final = D("17.1")
CREATININE_UMOL_L_PER_MG_DL: Final = D("88.4")
# Normalized values are rounded to this quantum for storage/display; scores never use them.
NORMALIZED_QUANTUM: Final = D("0.01")

# --- Components ---------------------------------------------------------------------------------

COMPONENTS: Final = ("respiration", "coagulation", "liver", "cardiovascular", "cns", "renal")
Component = Literal["respiration", "coagulation", "liver", "cardiovascular", "cns", "renal"]

# The inputs that make a component "observed" on a day. Respiration needs the pair PaO2 + FiO2
# (validation rejects half a pair); cardiovascular is observed with the MAP or any agent's dose
# (a dose of 0 is an observation: no agent given); renal with creatinine or urine output.
COMPONENT_INPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "respiration": ("pao2", "fio2"),
    "coagulation": ("platelets",),
    "liver": ("bilirubin",),
    "cardiovascular": ("map", "dopamine", "dobutamine", "epinephrine", "norepinephrine"),
    "cns": ("gcs",),
    "renal": ("creatinine", "urine_output"),
}

# How a missing component was filled (sofa.md "Missing data inside one day's score").
IMPUTED_NORMAL: Final = "normal"
CARRIED_FORWARD_PREFIX: Final = "carried_forward_day_"


def carried_forward_label(day: int) -> str:
    return f"{CARRIED_FORWARD_PREFIX}{day}"


# --- The SOFA table as bands (sofa.md table and "Band edges") -----------------------------------

Op = Literal["<", "<=", ">", ">="]
_OPS: Final[Mapping[str, Callable[[Fraction, Fraction], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Band:
    """One cell of the SOFA table: ``score`` applies when ``value <op> bound``."""

    score: int
    op: Op
    bound: Decimal

    def contains(self, value: Fraction) -> bool:
        return _OPS[self.op](value, Fraction(self.bound))


Bands = tuple[Band, ...]


def _bands(*cells: tuple[int, Op, str]) -> Bands:
    return tuple(Band(score, op, D(bound)) for score, op, bound in cells)


# Respiration, PaO2/FiO2 in mmHg. Scores 3 and 4 also need respiratory support (see the cap).
RESPIRATION_BANDS: Final = _bands(
    (4, "<", "100"), (3, "<", "200"), (2, "<", "300"), (1, "<", "400")
)
# sofa.md: without respiratory support the respiratory score is at most 2.
RESPIRATION_MAX_WITHOUT_SUPPORT: Final = 2

# Coagulation, platelets x10^3/uL.
COAGULATION_BANDS: Final = _bands((4, "<", "20"), (3, "<", "50"), (2, "<", "100"), (1, "<", "150"))

# Liver, bilirubin, scored in the unit entered with that unit's own boundaries.
# sofa.md "Band edges": mg/dL contiguous [1.2, 2.0) [2.0, 6.0) [6.0, 12.0) >= 12.0;
# umol/L < 20, [20, 33), [33, 102), [102, 204], > 204.
LIVER_BANDS: Final[Mapping[str, Bands]] = {
    "mg/dL": _bands((4, ">=", "12.0"), (3, ">=", "6.0"), (2, ">=", "2.0"), (1, ">=", "1.2")),
    "umol/L": _bands((4, ">", "204"), (3, ">=", "102"), (2, ">=", "33"), (1, ">=", "20")),
}

# Cardiovascular: the score is the highest that any agent or the MAP reaches. Doses ug/kg/min.
# sofa.md: dopamine <= 5 -> 2, > 5 -> 3, > 15 -> 4 (some sources write "< 5"; this system uses
# "<= 5"); dobutamine any dose -> 2; epinephrine/norepinephrine <= 0.1 -> 3, > 0.1 -> 4.
# A dose of 0 means "not given" and scores nothing.
MAP_BANDS: Final = _bands((1, "<", "70"))
DOPAMINE_BANDS: Final = _bands((4, ">", "15"), (3, ">", "5"), (2, ">", "0"))
DOBUTAMINE_BANDS: Final = _bands((2, ">", "0"))
EPINEPHRINE_BANDS: Final = _bands((4, ">", "0.1"), (3, ">", "0"))
NOREPINEPHRINE_BANDS: Final = _bands((4, ">", "0.1"), (3, ">", "0"))

# CNS, Glasgow Coma Scale: 15 -> 0, 13-14 -> 1, 10-12 -> 2, 6-9 -> 3, < 6 -> 4.
CNS_BANDS: Final = _bands((4, "<", "6"), (3, "<", "10"), (2, "<", "13"), (1, "<", "15"))

# Renal, creatinine, scored in the unit entered (sofa.md "Band edges"): mg/dL [1.2, 2.0)
# [2.0, 3.5) [3.5, 5.0) >= 5.0; umol/L < 110, [110, 171), [171, 300), [300, 440], > 440.
# The printed bands of the two units do not coincide: 107-109 umol/L scores 0 while the same
# concentration in mg/dL (1.21-1.23) scores 1. A known, documented property of the table.
CREATININE_BANDS: Final[Mapping[str, Bands]] = {
    "mg/dL": _bands((4, ">=", "5.0"), (3, ">=", "3.5"), (2, ">=", "2.0"), (1, ">=", "1.2")),
    "umol/L": _bands((4, ">", "440"), (3, ">=", "300"), (2, ">=", "171"), (1, ">=", "110")),
}
# Renal, urine output mL/24 h: < 500 -> 3, < 200 -> 4.
URINE_OUTPUT_BANDS: Final = _bands((4, "<", "200"), (3, "<", "500"))


def _band_score(value: Decimal | int | Fraction, bands: Bands) -> int:
    exact = Fraction(value)
    for band in bands:  # worst score first; the first band that holds wins
        if band.contains(exact):
            return band.score
    return 0


# --- Inputs and results -------------------------------------------------------------------------


@dataclass(frozen=True)
class SofaInputs:
    """One day's worst values, as entered. Every value is optional (a component not measured)."""

    pao2: Decimal | None = None
    pao2_unit: str | None = None  # 'mmHg' | 'kPa'
    fio2: Decimal | None = None  # fraction 0.21-1.0, measured with the same blood gas as PaO2
    respiratory_support: str | None = None  # 'none' | 'non_invasive' | 'invasive'
    platelets: Decimal | None = None  # x10^3/uL
    bilirubin: Decimal | None = None
    bilirubin_unit: str | None = None  # 'mg/dL' | 'umol/L'
    map: Decimal | None = None  # mean arterial pressure, mmHg
    dopamine: Decimal | None = None  # ug/kg/min, given >= 1 hour
    dobutamine: Decimal | None = None
    epinephrine: Decimal | None = None
    norepinephrine: Decimal | None = None
    gcs: int | None = None  # 3-15; if sedated, the best estimate without sedation
    gcs_sedated: bool | None = None
    creatinine: Decimal | None = None
    creatinine_unit: str | None = None  # 'mg/dL' | 'umol/L'
    urine_output: Decimal | None = None  # mL/24 h


@dataclass(frozen=True)
class SofaScore:
    """A day's SOFA. ``missing``: components with no input that day; ``imputed``: how each
    missing component was filled ('normal' or 'carried_forward_day_N', N the observed day)."""

    day: int
    respiration: int
    coagulation: int
    liver: int
    cardiovascular: int
    cns: int
    renal: int
    total: int
    missing: tuple[str, ...] = ()
    imputed: dict[str, str] = field(default_factory=dict)

    def subscore(self, component: str) -> int:
        if component not in COMPONENTS:
            raise ValueError(f"Unknown SOFA component {component!r}.")
        return int(getattr(self, component))


@dataclass(frozen=True)
class NormalizedSofaValues:
    """Values in the reference units, rounded to ``NORMALIZED_QUANTUM`` for storage."""

    pao2_mmhg: Decimal | None
    pf_ratio: Decimal | None
    bilirubin_mg_dl: Decimal | None
    creatinine_mg_dl: Decimal | None


class SofaInputError(ValueError):
    """Raised by ``score_day`` when the inputs break a hard limit; ``errors`` maps field -> fix."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# --- Plausibility limits (judgement calls) ------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """An allowed range ``[low, high]`` (``low`` exclusive when ``low_exclusive``), with the unit
    the user sees and a hint for the most likely mistake when the value falls outside it."""

    low: Decimal | None
    high: Decimal | None
    unit: str
    low_exclusive: bool = False
    hint_low: str = ""
    hint_high: str = ""

    def below(self, value: Decimal | int) -> bool:
        if self.low is None:
            return False
        return value <= self.low if self.low_exclusive else value < self.low

    def above(self, value: Decimal | int) -> bool:
        return self.high is not None and value > self.high


def _limit(
    low: str | None,
    high: str | None,
    unit: str,
    *,
    low_exclusive: bool = False,
    hint_low: str = "",
    hint_high: str = "",
) -> Limit:
    return Limit(
        None if low is None else D(low),
        None if high is None else D(high),
        unit,
        low_exclusive,
        hint_low,
        hint_high,
    )


# Keyed by (field, unit); unit None for fields with a single unit.
# Hard limits: impossible values, or almost surely a unit mistake. Rejected.
HARD_LIMITS: Final[Mapping[tuple[str, str | None], Limit]] = {
    # PaO2 15-800 mmHg (2.0-106.7 kPa): above 800 mmHg needs a hyperbaric chamber.
    ("pao2", "mmHg"): _limit(
        "15", "800", "mmHg", hint_low="if the lab reported kPa, choose kPa as the unit"
    ),
    ("pao2", "kPa"): _limit(
        "2.0", "106.7", "kPa", hint_high="if the lab reported mmHg, choose mmHg as the unit"
    ),
    # FiO2 is a fraction (sofa.md): 0.21 (room air) to 1.0. Percentages get their own message.
    ("fio2", None): _limit("0.21", "1.0", "(fraction)"),
    # Platelets 0-2000 x10^3/uL; a count per uL (e.g. 150000) is the usual slip.
    ("platelets", None): _limit(
        "0", "2000", "x10^3/uL", hint_high="enter x10^3/uL, e.g. 150 for 150,000/uL"
    ),
    # Bilirubin up to 100 mg/dL (1710 umol/L).
    ("bilirubin", "mg/dL"): _limit(
        "0", "100", "mg/dL", hint_high="if the lab reported umol/L, choose umol/L as the unit"
    ),
    ("bilirubin", "umol/L"): _limit("0", "1710", "umol/L"),
    # MAP 20-250 mmHg.
    ("map", None): _limit("20", "250", "mmHg"),
    # Catecholamines in ug/kg/min: beyond these the dose is almost surely ug/min or mg/h.
    ("dopamine", None): _limit("0", "50", "ug/kg/min", hint_high="enter the dose in ug/kg/min"),
    ("dobutamine", None): _limit("0", "40", "ug/kg/min", hint_high="enter the dose in ug/kg/min"),
    ("epinephrine", None): _limit("0", "5", "ug/kg/min", hint_high="enter the dose in ug/kg/min"),
    ("norepinephrine", None): _limit(
        "0", "5", "ug/kg/min", hint_high="enter the dose in ug/kg/min"
    ),
    # GCS 3-15 (sofa.md).
    ("gcs", None): _limit("3", "15", ""),
    # Creatinine: above 0, up to 30 mg/dL (2652 umol/L).
    ("creatinine", "mg/dL"): _limit(
        "0",
        "30",
        "mg/dL",
        low_exclusive=True,
        hint_high="if the lab reported umol/L, choose umol/L as the unit",
    ),
    ("creatinine", "umol/L"): _limit("0", "2652", "umol/L", low_exclusive=True),
    # Urine output 0-20000 mL/24 h.
    ("urine_output", None): _limit("0", "20000", "mL/24 h"),
}

# Soft limits: possible but unusual. Flagged for review, not rejected.
SOFT_LIMITS: Final[Mapping[tuple[str, str | None], Limit]] = {
    ("pao2", "mmHg"): _limit(
        "40",
        "500",
        "mmHg",
        hint_low="if the lab reported kPa, choose kPa as the unit",
    ),
    ("pao2", "kPa"): _limit(
        "5.3",
        "66.7",
        "kPa",
        hint_high="if the lab reported mmHg, choose mmHg as the unit",
    ),
    ("platelets", None): _limit("5", "1000", "x10^3/uL"),
    ("bilirubin", "mg/dL"): _limit(
        "0.1", "30", "mg/dL", hint_high="if the lab reported umol/L, choose umol/L as the unit"
    ),
    ("bilirubin", "umol/L"): _limit("2", "513", "umol/L"),
    ("map", None): _limit("40", "150", "mmHg"),
    ("dopamine", None): _limit(None, "20", "ug/kg/min"),
    ("dobutamine", None): _limit(None, "20", "ug/kg/min"),
    ("epinephrine", None): _limit(None, "1", "ug/kg/min"),
    ("norepinephrine", None): _limit(None, "1", "ug/kg/min"),
    ("creatinine", "mg/dL"): _limit(
        "0.3", "15", "mg/dL", hint_high="if the lab reported umol/L, choose umol/L as the unit"
    ),
    ("creatinine", "umol/L"): _limit(
        "27", "1326", "umol/L", hint_low="if the lab reported mg/dL, choose mg/dL as the unit"
    ),
    ("urine_output", None): _limit(None, "8000", "mL/24 h"),
}
# Soft: without NIV/CPAP or ventilation an FiO2 above 0.6 needs a reservoir mask or high flow.
SOFT_FIO2_WITHOUT_SUPPORT_MAX: Final = D("0.6")

_LABELS: Final[Mapping[str, str]] = {
    "pao2": "PaO2",
    "fio2": "FiO2",
    "platelets": "Platelets",
    "bilirubin": "Bilirubin",
    "map": "MAP",
    "dopamine": "Dopamine",
    "dobutamine": "Dobutamine",
    "epinephrine": "Epinephrine",
    "norepinephrine": "Norepinephrine",
    "gcs": "GCS",
    "creatinine": "Creatinine",
    "urine_output": "Urine output",
}
# Numeric fields, with the unit field that must accompany them (None: single fixed unit).
_NUMERIC_FIELDS: Final[Mapping[str, str | None]] = {
    "pao2": "pao2_unit",
    "fio2": None,
    "platelets": None,
    "bilirubin": "bilirubin_unit",
    "map": None,
    "dopamine": None,
    "dobutamine": None,
    "epinephrine": None,
    "norepinephrine": None,
    "creatinine": "creatinine_unit",
    "urine_output": None,
}
_UNIT_CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "pao2_unit": PAO2_UNITS,
    "bilirubin_unit": MASS_UNITS,
    "creatinine_unit": MASS_UNITS,
}
_PERCENT_LOW: Final = D("21")
_PERCENT_HIGH: Final = D("100")


def _choices(options: tuple[str, ...]) -> str:
    return " or ".join(options)


def _with_hint(message: str, hint: str) -> str:
    return f"{message}; {hint}." if hint else f"{message}."


def _range_text(limit: Limit) -> str:
    unit = f" {limit.unit}" if limit.unit else ""
    if limit.low is None:
        return f"at most {limit.high}{unit}"
    if limit.high is None:
        return f"at least {limit.low}{unit}"
    low = f"above {limit.low}" if limit.low_exclusive else f"from {limit.low}"
    return f"{low} to {limit.high}{unit}"


def _is_number(value: object) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool)


def validate_inputs(inputs: SofaInputs) -> dict[str, str]:
    """Hard-limit errors per API field name; an empty dict means the inputs can be scored.

    Each message says what to fix. Only the first problem of each field is reported.
    """
    errors: dict[str, str] = {}

    # Units: known codes only; a unit without its value is harmless (a form default).
    for unit_field, options in _UNIT_CHOICES.items():
        unit = getattr(inputs, unit_field)
        if unit is not None and unit not in options:
            errors[unit_field] = f"Unknown unit {unit!r}: choose {_choices(options)}."
    if (
        inputs.respiratory_support is not None
        and inputs.respiratory_support not in RESPIRATORY_SUPPORT_CODES
    ):
        errors["respiratory_support"] = (
            f"Unknown respiratory support {inputs.respiratory_support!r}: choose "
            f"{_choices(RESPIRATORY_SUPPORT_CODES)} (NIV and CPAP are non_invasive)."
        )
    if inputs.gcs_sedated is not None and not isinstance(inputs.gcs_sedated, bool):
        errors["gcs_sedated"] = "The sedation flag must be yes (true) or no (false)."

    for name, unit_field in _NUMERIC_FIELDS.items():
        value = getattr(inputs, name)
        if value is None:
            continue
        label = _LABELS[name]
        if not _is_number(value):
            errors[name] = f"{label} must be a decimal number, got {value!r}."
            continue
        if isinstance(value, Decimal) and not value.is_finite():
            errors[name] = f"{label} must be a finite number."
            continue
        unit: str | None = None
        if unit_field is not None:
            unit = getattr(inputs, unit_field)
            if unit is None:
                errors[unit_field] = (
                    f"{label} was entered without a unit: choose {_choices(_UNIT_CHOICES[unit_field])}."
                )
                continue
            if unit not in _UNIT_CHOICES[unit_field]:
                continue  # already reported on the unit field
        if value < 0:
            errors[name] = f"{label} cannot be negative ({value}): enter the measured value."
            continue
        if name == "fio2":
            message = _fio2_error(value)
            if message:
                errors[name] = message
            continue
        limit = HARD_LIMITS[(name, unit)]
        if limit.below(value):
            errors[name] = _with_hint(
                f"{label} {value} {limit.unit} is impossible: enter a value {_range_text(limit)}",
                limit.hint_low,
            )
        elif limit.above(value):
            errors[name] = _with_hint(
                f"{label} {value} {limit.unit} is impossible: enter a value {_range_text(limit)}",
                limit.hint_high,
            )

    if inputs.gcs is not None:
        gcs_limit = HARD_LIMITS[("gcs", None)]
        if not isinstance(inputs.gcs, int) or isinstance(inputs.gcs, bool):
            errors["gcs"] = f"GCS must be a whole number from 3 to 15, got {inputs.gcs!r}."
        elif gcs_limit.below(inputs.gcs) or gcs_limit.above(inputs.gcs):
            errors["gcs"] = (
                f"GCS {inputs.gcs} is impossible: the Glasgow Coma Scale runs from 3 to 15 "
                "(if sedated, enter the best estimate without sedation)."
            )

    # sofa.md: PaO2 and FiO2 are measured together (the blood gas with the lowest ratio).
    if inputs.pao2 is not None and inputs.fio2 is None and "pao2" not in errors:
        errors["fio2"] = "PaO2 was entered without FiO2: enter the FiO2 of the same blood gas."
    if inputs.fio2 is not None and inputs.pao2 is None and "fio2" not in errors:
        errors["pao2"] = "FiO2 was entered without PaO2: enter the PaO2 of the same blood gas."
    # sofa.md: the respiratory score depends on support (cap at 2 without it).
    if inputs.pao2 is not None and inputs.fio2 is not None and inputs.respiratory_support is None:
        errors["respiratory_support"] = (
            "Respiratory support is required with a PaO2/FiO2: choose none, "
            "non-invasive (NIV or CPAP) or invasive ventilation."
        )
    return errors


def _fio2_error(value: Decimal | int) -> str:
    limit = HARD_LIMITS[("fio2", None)]
    if not (limit.below(value) or limit.above(value)):
        return ""
    # sofa.md: FiO2 is a fraction; a percentage is accepted only if the form says so.
    if _PERCENT_LOW <= value <= _PERCENT_HIGH:
        fraction = (D(value) / 100).quantize(NORMALIZED_QUANTUM)
        return (
            f"FiO2 must be a fraction from 0.21 to 1.0; {value} looks like a percentage: "
            f"enter {fraction}."
        )
    if limit.below(value):
        return f"FiO2 {value} is below room air: enter a fraction from 0.21 to 1.0."
    return f"FiO2 {value} is impossible: enter a fraction from 0.21 to 1.0 (e.g. 0.40 for 40%)."


def soft_flags(inputs: SofaInputs) -> dict[str, str]:
    """Unusual but possible values, per API field name, for review. Fields with a hard error
    (see ``validate_inputs``) are skipped: they need correcting, not reviewing."""
    hard = validate_inputs(inputs)
    flags: dict[str, str] = {}
    for name, unit_field in _NUMERIC_FIELDS.items():
        value = getattr(inputs, name)
        unit = getattr(inputs, unit_field) if unit_field else None
        if value is None or name in hard or (unit_field and unit_field in hard):
            continue
        limit = SOFT_LIMITS.get((name, unit))
        if limit is None:
            continue
        label = _LABELS[name]
        if limit.below(value):
            flags[name] = _with_hint(
                f"{label} {value} {limit.unit} is unusually low (expected "
                f"{_range_text(limit)}): confirm the value",
                limit.hint_low,
            )
        elif limit.above(value):
            flags[name] = _with_hint(
                f"{label} {value} {limit.unit} is unusually high (expected "
                f"{_range_text(limit)}): confirm the value",
                limit.hint_high,
            )
    if (
        inputs.fio2 is not None
        and "fio2" not in hard
        and "respiratory_support" not in hard
        and inputs.respiratory_support == "none"
        and inputs.fio2 > SOFT_FIO2_WITHOUT_SUPPORT_MAX
    ):
        flags["fio2"] = (
            f"FiO2 {inputs.fio2} without respiratory support is unusual (above "
            f"{SOFT_FIO2_WITHOUT_SUPPORT_MAX}): confirm the FiO2, and record NIV/CPAP or "
            "ventilation if the patient had it."
        )
    return flags


# --- Normalization ------------------------------------------------------------------------------


def pao2_to_mmhg(pao2: Decimal, unit: str) -> Decimal:
    """PaO2 in mmHg, exactly (sofa.md: kPa x 7.50062)."""
    if unit == "mmHg":
        return pao2
    if unit == "kPa":
        return pao2 * PAO2_MMHG_PER_KPA
    raise ValueError(f"Unknown PaO2 unit {unit!r}: use {_choices(PAO2_UNITS)}.")


def _to_mg_dl(value: Decimal, unit: str, umol_per_mg_dl: Decimal) -> Fraction:
    if unit == "mg/dL":
        return Fraction(value)
    if unit == "umol/L":
        return Fraction(value) / Fraction(umol_per_mg_dl)
    raise ValueError(f"Unknown unit {unit!r}: use {_choices(MASS_UNITS)}.")


def _quantize(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        value = D(value.numerator) / D(value.denominator)
    return value.quantize(NORMALIZED_QUANTUM, rounding=ROUND_HALF_EVEN)


def normalize(inputs: SofaInputs) -> NormalizedSofaValues:
    """Values in reference units (PaO2 mmHg, bilirubin and creatinine mg/dL), for storage next
    to the values as entered (sofa.md "Unit conversions"). Values with an unknown or missing unit
    normalize to None; run ``validate_inputs`` first."""
    pao2_mmhg: Decimal | None = None
    pf_ratio: Decimal | None = None
    if inputs.pao2 is not None and inputs.pao2_unit in PAO2_UNITS:
        exact_pao2 = pao2_to_mmhg(inputs.pao2, inputs.pao2_unit)
        pao2_mmhg = _quantize(exact_pao2)
        if inputs.fio2 is not None and inputs.fio2 > 0:
            pf_ratio = _quantize(Fraction(exact_pao2) / Fraction(inputs.fio2))
    bilirubin: Decimal | None = None
    if inputs.bilirubin is not None and inputs.bilirubin_unit in MASS_UNITS:
        bilirubin = _quantize(
            _to_mg_dl(inputs.bilirubin, inputs.bilirubin_unit, BILIRUBIN_UMOL_L_PER_MG_DL)
        )
    creatinine: Decimal | None = None
    if inputs.creatinine is not None and inputs.creatinine_unit in MASS_UNITS:
        creatinine = _quantize(
            _to_mg_dl(inputs.creatinine, inputs.creatinine_unit, CREATININE_UMOL_L_PER_MG_DL)
        )
    return NormalizedSofaValues(
        pao2_mmhg=pao2_mmhg,
        pf_ratio=pf_ratio,
        bilirubin_mg_dl=bilirubin,
        creatinine_mg_dl=creatinine,
    )


# --- Subscores ----------------------------------------------------------------------------------


def respiration_score(*, pao2_mmhg: Decimal, fio2: Decimal, respiratory_support: str) -> int:
    """PaO2 (mmHg, normalized) / FiO2 (fraction) against ``RESPIRATION_BANDS``."""
    if respiratory_support not in RESPIRATORY_SUPPORT_CODES:
        raise ValueError(f"Unknown respiratory support {respiratory_support!r}.")
    if fio2 <= 0:
        raise ValueError("FiO2 must be a positive fraction.")
    ratio = Fraction(pao2_mmhg) / Fraction(fio2)
    score = _band_score(ratio, RESPIRATION_BANDS)
    if respiratory_support not in SUPPORTED_RESPIRATORY_CODES:
        # sofa.md: without respiratory support the respiratory score is at most 2.
        score = min(score, RESPIRATION_MAX_WITHOUT_SUPPORT)
    return score


def coagulation_score(*, platelets: Decimal) -> int:
    """Platelets x10^3/uL against ``COAGULATION_BANDS``."""
    return _band_score(platelets, COAGULATION_BANDS)


def liver_score(*, bilirubin: Decimal, unit: str) -> int:
    """Bilirubin scored in the unit entered, with that unit's own bands (sofa.md)."""
    if unit not in LIVER_BANDS:
        raise ValueError(f"Unknown bilirubin unit {unit!r}: use {_choices(MASS_UNITS)}.")
    return _band_score(bilirubin, LIVER_BANDS[unit])


def cardiovascular_score(
    *,
    map_mmhg: Decimal | None = None,
    dopamine: Decimal | None = None,
    dobutamine: Decimal | None = None,
    epinephrine: Decimal | None = None,
    norepinephrine: Decimal | None = None,
) -> int:
    """sofa.md: the highest score that the MAP or any agent (ug/kg/min, >= 1 h) reaches."""
    criteria: tuple[tuple[Decimal | None, Bands], ...] = (
        (map_mmhg, MAP_BANDS),
        (dopamine, DOPAMINE_BANDS),
        (dobutamine, DOBUTAMINE_BANDS),
        (epinephrine, EPINEPHRINE_BANDS),
        (norepinephrine, NOREPINEPHRINE_BANDS),
    )
    return max((_band_score(v, bands) for v, bands in criteria if v is not None), default=0)


def cns_score(*, gcs: int) -> int:
    """Glasgow Coma Scale 3-15 against ``CNS_BANDS``."""
    return _band_score(gcs, CNS_BANDS)


def creatinine_score(*, creatinine: Decimal, unit: str) -> int:
    """Creatinine scored in the unit entered, with that unit's own bands (sofa.md)."""
    if unit not in CREATININE_BANDS:
        raise ValueError(f"Unknown creatinine unit {unit!r}: use {_choices(MASS_UNITS)}.")
    return _band_score(creatinine, CREATININE_BANDS[unit])


def urine_output_score(*, urine_output: Decimal) -> int:
    """Urine output mL/24 h against ``URINE_OUTPUT_BANDS``."""
    return _band_score(urine_output, URINE_OUTPUT_BANDS)


def renal_score(
    *,
    creatinine: Decimal | None = None,
    creatinine_unit: str | None = None,
    urine_output: Decimal | None = None,
) -> int:
    """sofa.md: the renal score is the worse of the creatinine and urine-output scores."""
    scores: list[int] = []
    if creatinine is not None:
        if creatinine_unit is None:
            raise ValueError("Creatinine needs its unit.")
        scores.append(creatinine_score(creatinine=creatinine, unit=creatinine_unit))
    if urine_output is not None:
        scores.append(urine_output_score(urine_output=urine_output))
    return max(scores, default=0)


# --- One day's score ----------------------------------------------------------------------------


def observed_subscores(inputs: SofaInputs) -> dict[str, int | None]:
    """Each component's subscore from this day's inputs, or None when it has no input.

    The inputs must pass ``validate_inputs``.
    """
    observed: dict[str, int | None] = dict.fromkeys(COMPONENTS)
    if inputs.pao2 is not None and inputs.fio2 is not None:
        assert inputs.pao2_unit is not None and inputs.respiratory_support is not None
        observed["respiration"] = respiration_score(
            pao2_mmhg=pao2_to_mmhg(inputs.pao2, inputs.pao2_unit),
            fio2=inputs.fio2,
            respiratory_support=inputs.respiratory_support,
        )
    if inputs.platelets is not None:
        observed["coagulation"] = coagulation_score(platelets=inputs.platelets)
    if inputs.bilirubin is not None:
        assert inputs.bilirubin_unit is not None
        observed["liver"] = liver_score(bilirubin=inputs.bilirubin, unit=inputs.bilirubin_unit)
    if _any_present(inputs, "cardiovascular"):
        observed["cardiovascular"] = cardiovascular_score(
            map_mmhg=inputs.map,
            dopamine=inputs.dopamine,
            dobutamine=inputs.dobutamine,
            epinephrine=inputs.epinephrine,
            norepinephrine=inputs.norepinephrine,
        )
    if inputs.gcs is not None:
        observed["cns"] = cns_score(gcs=inputs.gcs)
    if _any_present(inputs, "renal"):
        observed["renal"] = renal_score(
            creatinine=inputs.creatinine,
            creatinine_unit=inputs.creatinine_unit,
            urine_output=inputs.urine_output,
        )
    return observed


def _any_present(inputs: SofaInputs, component: str) -> bool:
    return any(getattr(inputs, name) is not None for name in COMPONENT_INPUTS[component])


def score_day(inputs: SofaInputs, *, day: int, previous: SofaScore | None) -> SofaScore:
    """The SOFA of study day ``day``, with missing components filled and recorded.

    sofa.md "Missing data inside one day's score" (the default rule): on day 1 a missing
    component counts as normal (0); on later days it is carried forward from ``previous``, the
    score of the last day with a SOFA form (keeping the day it was observed on), and counts as
    normal (0) when there is no previous day. Raises ``SofaInputError`` on hard-limit errors.
    """
    if day < 1:
        raise ValueError(f"Study days start at 1, got {day}.")
    if previous is not None and previous.day >= day:
        raise ValueError(f"The previous score (day {previous.day}) must come before day {day}.")
    errors = validate_inputs(inputs)
    if errors:
        raise SofaInputError(errors)

    observed = observed_subscores(inputs)
    subscores: dict[str, int] = {}
    missing: list[str] = []
    imputed: dict[str, str] = {}
    for component in COMPONENTS:
        value = observed[component]
        if value is not None:
            subscores[component] = value
            continue
        missing.append(component)
        if day == 1 or previous is None:
            # sofa.md: a missing component on day 1 counts as normal; with nothing to carry
            # forward on a later day, it counts as normal too (recorded).
            subscores[component] = 0
            imputed[component] = IMPUTED_NORMAL
        else:
            # sofa.md: on later days, carried forward from the last observed day.
            subscores[component] = previous.subscore(component)
            imputed[component] = previous.imputed.get(
                component, carried_forward_label(previous.day)
            )
    return SofaScore(
        day=day,
        total=sum(subscores.values()),
        missing=tuple(missing),
        imputed=imputed,
        **subscores,
    )


__all__ = [
    "COMPONENTS",
    "HARD_LIMITS",
    "SOFT_LIMITS",
    "NormalizedSofaValues",
    "SofaInputError",
    "SofaInputs",
    "SofaScore",
    "cardiovascular_score",
    "carried_forward_label",
    "cns_score",
    "coagulation_score",
    "creatinine_score",
    "liver_score",
    "normalize",
    "observed_subscores",
    "pao2_to_mmhg",
    "renal_score",
    "respiration_score",
    "score_day",
    "soft_flags",
    "urine_output_score",
    "validate_inputs",
]
