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
LOCAL_ANALYTES = ("hemoglobin", "white_cells", "neutrophils", "platelets", "bilirubin", "creatinine")


def to_standard(analyte: str, value: Decimal, unit: str) -> Decimal:
    standard, factors = UNITS[analyte]
    if unit not in factors:
        raise ValueError(f"{analyte} is not measured in {unit}; use one of {', '.join(factors)}.")
    return (Decimal(value) * factors[unit]).quantize(Decimal("0.001"))
