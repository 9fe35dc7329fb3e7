"""Lab units and their conversion to the unit each analyte is compared in. Pure, no Django."""

from __future__ import annotations

from decimal import Decimal

# analyte -> (standard unit, {unit: factor to the standard unit})
UNITS: dict[str, tuple[str, dict[str, Decimal]]] = {
    "hemoglobin": ("g/dL", {"g/dL": Decimal("1"), "g/L": Decimal("0.1"), "mmol/L": Decimal("1.611")}),
    "white_cells": ("10^9/L", {"10^9/L": Decimal("1"), "/mm3": Decimal("0.001")}),
    "neutrophils": ("10^9/L", {"10^9/L": Decimal("1"), "/mm3": Decimal("0.001")}),
    "platelets": ("10^9/L", {"10^9/L": Decimal("1"), "/mm3": Decimal("0.001")}),
    "bilirubin": ("mg/dL", {"mg/dL": Decimal("1"), "umol/L": Decimal("1") / Decimal("17.1")}),
    "creatinine": ("mg/dL", {"mg/dL": Decimal("1"), "umol/L": Decimal("1") / Decimal("88.4")}),
    "ferritin": ("ng/mL", {"ng/mL": Decimal("1"), "ug/L": Decimal("1")}),
}
# Hard limits in the standard unit: beyond them a result is impossible (or a unit slip), refused.
# They sit at the edge of what has been measured in a living patient; values that are possible
# but unusual (haemoglobin below 5 g/dL, platelets above 1000 x10^9/L) are soft checks for data
# management, not refusals.
HARD_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    "hemoglobin": (Decimal("0"), Decimal("25")),  # g/dL
    "white_cells": (Decimal("0"), Decimal("1000")),  # 10^9/L (hyperleukocytosis)
    "neutrophils": (Decimal("0"), Decimal("1000")),  # 10^9/L
    "platelets": (Decimal("0"), Decimal("5000")),  # 10^9/L (= x10^3/uL)
    "bilirubin": (Decimal("0"), Decimal("100")),  # mg/dL
    "creatinine": (Decimal("0"), Decimal("80")),  # mg/dL
    "ferritin": (Decimal("0"), Decimal("2000000")),  # ng/mL
}


def hard_limits_in(analyte: str, unit: str) -> tuple[Decimal, Decimal]:
    """The hard limits of ``analyte`` expressed in ``unit`` (rounded to the field's 3 places)."""
    low, high = HARD_LIMITS[analyte]
    factor = UNITS[analyte][1][unit]
    q = Decimal("0.001")
    return (low / factor).quantize(q), (high / factor).quantize(q)


def widest_hard_limits(analyte: str) -> tuple[Decimal, Decimal]:
    """The limits over every unit the analyte takes (what a field without its unit allows)."""
    pairs = [hard_limits_in(analyte, unit) for unit in UNITS[analyte][1]]
    return min(p[0] for p in pairs), max(p[1] for p in pairs)


LOCAL_ANALYTES = ("hemoglobin", "white_cells", "neutrophils", "platelets", "bilirubin", "creatinine")


def to_standard(analyte: str, value: Decimal, unit: str) -> Decimal:
    standard, factors = UNITS[analyte]
    if unit not in factors:
        raise ValueError(f"{analyte} is not measured in {unit}; use one of {', '.join(factors)}.")
    return (Decimal(value) * factors[unit]).quantize(Decimal("0.001"))
