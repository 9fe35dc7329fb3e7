"""The DSMB's safety tables from a package's own SDTM and ADaM (AE, SUPPAE, ADSL). No Django.

Read from what the package holds, never from the live tables, so that the tables of a closed
cut can be recomputed from its zip by anyone who has it.

- Safety population: the randomized participants (ADSL) who received a first dose (``TRTSDT``),
  counted under their planned arm (``TRT01P``; the design has no switching, so planned is what
  was given). ``N`` per arm is that count.
- Events: every AE record (SDTM AE) of a participant of the safety population, grouped by MedDRA
  system organ class (``AEBODSYS``; an uncoded event under "Not coded"), for all AEs and for the
  serious ones (``AESER`` = "Y"): the number of events and the number of participants with at
  least one (a participant counts once per row however many events he has).
- The two known signals (trial.md "Published figures", safety.md "Adverse events of special
  interest"): anemia with anakinra and bleeding with interferon-gamma, the AE flags
  ``SUPPAE.QNAM`` AESIANEM / AESIBLD = "Y". Participants with at least one such event per arm,
  overall and per phenotype; the phenotype whose active arm receives the product (anakinra for
  MALS, interferon-gamma for immunoparalysis, trial.md "Randomization") is marked, since only
  there does the active arm get that drug.

The input rows are dicts as the datasets hold them (XPT read back gives floats for numbers and
None for empty values; the builders' rows give ints and None): nothing here depends on which.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from ecrf.analysis.primary import ARMS

NOT_CODED = "Not coded"
ANY_SOC = "Any adverse event"
ALL = "*"
POPULATION = "Safety population: randomized participants who received a first dose (ADSL.TRTSDT), by planned arm"
PHENOTYPES = (("MALS", "MALS"), ("IMMUNOPARALYSIS", "Immunoparalysis"))
# (key, label, SUPPAE QNAM, the phenotype whose active arm receives the product, the product)
SIGNALS = (("anemia", "Anemia", "AESIANEM", "MALS", "anakinra"),
           ("bleeding", "Bleeding", "AESIBLD", "IMMUNOPARALYSIS", "interferon-gamma-1b"))

Row = Mapping[str, Any]


def _seq(value: Any) -> int | None:
    """AESEQ / IDVARVAL as an integer (a float from XPT, a string in SUPPAE)."""
    if value is None or value == "":
        return None
    return int(float(value))


def safety_population(adsl: Iterable[Row]) -> dict[str, tuple[str, str | None]]:
    """USUBJID -> (arm, phenotype) of the dosed participants with a planned arm."""
    out = {}
    for r in adsl:
        if r.get("TRTSDT") is not None and r.get("TRT01P") in ARMS:
            out[str(r["USUBJID"])] = (str(r["TRT01P"]), r.get("PHENO") or None)
    return out


def _cell(events: int, participants: set[str]) -> dict[str, int]:
    return {"events": events, "participants": len(participants)}


def safety_tables(adsl: Iterable[Row], ae: Iterable[Row], suppae: Iterable[Row]) -> dict[str, Any]:
    """The tables as plain JSON values (see the module docstring); rows in SOC name order after
    the "any adverse event" row."""
    population = safety_population(adsl)
    n = {arm: sum(1 for a, _ in population.values() if a == arm) for arm in ARMS}
    flags: dict[tuple[str, int | None], set[str]] = defaultdict(set)
    for q in suppae:
        if q.get("RDOMAIN") in (None, "AE") and q.get("QVAL") == "Y":
            flags[(str(q["USUBJID"]), _seq(q.get("IDVARVAL")))].add(str(q["QNAM"]))
    # (soc, arm, "all" | "serious") -> events, participants
    events: dict[tuple[str, str, str], int] = defaultdict(int)
    people: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    signal_people: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (signal, arm, phenotype or ALL)
    for r in ae:
        subject = str(r["USUBJID"])
        if subject not in population:
            continue
        arm, phenotype = population[subject]
        soc = r.get("AEBODSYS") or NOT_CODED
        kinds = ("all", "serious") if r.get("AESER") == "Y" else ("all",)
        for group in (ANY_SOC, soc):
            for kind in kinds:
                events[(group, arm, kind)] += 1
                people[(group, arm, kind)].add(subject)
        for key, _, qnam, _, _ in SIGNALS:
            if qnam in flags.get((subject, _seq(r.get("AESEQ"))), ()):
                signal_people[(key, arm, ALL)].add(subject)
                if phenotype:
                    signal_people[(key, arm, phenotype)].add(subject)
    socs = sorted({soc for soc, _, _ in events if soc != ANY_SOC})
    by_soc = [{"soc": soc, "arms": {arm: {kind: _cell(events[(soc, arm, kind)], people[(soc, arm, kind)])
                                          for kind in ("all", "serious")} for arm in ARMS}}
              for soc in [ANY_SOC, *socs]]
    signals = []
    for key, label, qnam, phenotype, product in SIGNALS:
        groups = [{"group": "All", "phenotype": None, "product_phenotype": False,
                   "arms": {arm: {"participants": len(signal_people[(key, arm, ALL)]), "n": n[arm]} for arm in ARMS}}]
        for code, name in PHENOTYPES:
            groups.append({"group": name, "phenotype": code, "product_phenotype": code == phenotype,
                           "arms": {arm: {"participants": len(signal_people[(key, arm, code)]),
                                          "n": sum(1 for a, p in population.values() if a == arm and p == code)}
                                    for arm in ARMS}})
        signals.append({"key": key, "label": label, "flag": qnam, "product": product, "groups": groups})
    return {"population": POPULATION, "arms": list(ARMS), "n": n, "by_soc": by_soc, "signals": signals}


def count_text(count: int, n: int) -> str:
    """``3/10 (30.0%)``; ``0/0`` when the group is empty."""
    return f"{count}/{n} ({100 * count / n:.1f}%)" if n else f"{count}/{n}"
