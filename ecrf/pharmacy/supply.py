"""How study drug reaches a participant: the supply mode (unblinded).

trial.md "Randomization and blinding", double dummy: every participant gets an IV and an SC
study drug; the arm and the phenotype fixed at randomization decide what each holds.

The mode is configuration (``Protocol.supply_mode``). Today: ``pharmacy_preparation`` (the
site's unblinded pharmacist prepares each dose). A kit mode would implement the same two calls
(``requirements`` and ``label``) by drawing numbered kits from site stock; the blinded apps see
only "IV study drug", "SC study drug" and the label, so they do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol as TypingProtocol

from ecrf.study.protocol import Protocol

# trial.md's table: (arm, phenotype) -> (IV product, SC product).
DOUBLE_DUMMY: dict[tuple[str, str], tuple[str, str]] = {
    ("active", "MALS"): ("anakinra", "placebo_sc"),
    ("active", "immunoparalysis"): ("placebo_iv", "interferon_gamma"),
    ("placebo", "MALS"): ("placebo_iv", "placebo_sc"),
    ("placebo", "immunoparalysis"): ("placebo_iv", "placebo_sc"),
}


@dataclass(frozen=True)
class Requirement:
    route: str  # "iv" | "sc"
    product: str  # ecrf.pharmacy.models.Product code
    dose: str  # from the protocol's regimen
    doses: int  # administrations over the treatment period


class SupplyMode(TypingProtocol):
    name: str

    def requirements(self, *, arm: str, phenotype: str, protocol: Protocol) -> tuple[Requirement, Requirement]: ...

    def label(self, *, subject_id: str, route: str, dose_number: int) -> str: ...


class PharmacyPreparation:
    name = "pharmacy_preparation"

    def requirements(self, *, arm: str, phenotype: str, protocol: Protocol) -> tuple[Requirement, Requirement]:
        iv, sc = DOUBLE_DUMMY[(arm, phenotype)]
        iv_dose = protocol.iv_active_dose if iv == "anakinra" else protocol.iv_placebo_dose
        sc_dose = protocol.sc_active_dose if sc == "interferon_gamma" else protocol.sc_placebo_dose
        return (Requirement("iv", iv, iv_dose, protocol.iv_dose_count),
                Requirement("sc", sc, sc_dose, protocol.sc_dose_count))

    def label(self, *, subject_id: str, route: str, dose_number: int) -> str:
        # Identical for every arm: the ward must not learn the content from the label.
        return f"{subject_id} · {'IV' if route == 'iv' else 'SC'} study drug · dose {dose_number}"


MODES: dict[str, SupplyMode] = {PharmacyPreparation.name: PharmacyPreparation()}


def supply_mode(protocol: Protocol) -> SupplyMode:
    try:
        return MODES[protocol.supply_mode]
    except KeyError:
        raise ValueError(f"Unknown supply mode {protocol.supply_mode!r}; known: {', '.join(MODES)}.") from None
