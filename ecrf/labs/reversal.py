"""Day-15 phenotype reversal (trial.md "Secondary endpoints"). Pure, no Django.

- MALS: ferritin on day 15 fell by >= 15% from screening (baseline).
- Immunoparalysis: on day 15, HLA-DR > 8000 receptors/cell and ferritin < 4420 ng/mL (both
  strict, as the analysis plan words it).
Returns None when a value the rule needs is missing (not evaluable; never guessed).
"""

from __future__ import annotations

from decimal import Decimal

from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol

MALS = "mals"
IMMUNOPARALYSIS = "immunoparalysis"


def phenotype_reversal(phenotype: str, *, baseline_ferritin: Decimal | None, day15_ferritin: Decimal | None,
                       day15_hla_dr: int | None, protocol: Protocol = DEFAULT_PROTOCOL) -> bool | None:
    if phenotype == MALS:
        if baseline_ferritin is None or day15_ferritin is None or baseline_ferritin <= 0:
            return None
        fall = (Decimal(baseline_ferritin) - Decimal(day15_ferritin)) / Decimal(baseline_ferritin)
        return fall >= protocol.reversal_ferritin_fall_fraction
    if phenotype == IMMUNOPARALYSIS:
        if day15_ferritin is None or day15_hla_dr is None:
            return None
        return day15_hla_dr > protocol.reversal_hla_dr_min and Decimal(day15_ferritin) < protocol.reversal_ferritin_max
    raise ValueError(f"Unknown phenotype {phenotype!r}; expected {MALS!r} or {IMMUNOPARALYSIS!r}.")
