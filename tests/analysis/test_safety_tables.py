"""The DSMB's safety tables on a hand-built package (ADSL, AE, SUPPAE rows as the XPT read back
gives them: floats for numbers, None for empty), with the counts computed by hand below."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.analysis.primary import ACTIVE, PLACEBO
from ecrf.analysis.report import signal_rows, soc_rows
from ecrf.analysis.safety_tables import ANY_SOC, NOT_CODED, count_text, safety_tables

BLOOD, INFECT = "Blood and lymphatic system disorders", "Infections and infestations"

# Five dosed participants (A1-A3 active, P1-P2 placebo), one randomized but never dosed (U1,
# active: outside the safety population, his AE is not counted) and one screen failure (no arm).
ADSL = [
    {"USUBJID": "S-A1", "TRT01P": ACTIVE, "TRTSDT": 23810.0, "PHENO": "MALS"},
    {"USUBJID": "S-A2", "TRT01P": ACTIVE, "TRTSDT": 23810.0, "PHENO": "IMMUNOPARALYSIS"},
    {"USUBJID": "S-A3", "TRT01P": ACTIVE, "TRTSDT": 23811.0, "PHENO": "MALS"},
    {"USUBJID": "S-P1", "TRT01P": PLACEBO, "TRTSDT": 23810.0, "PHENO": "MALS"},
    {"USUBJID": "S-P2", "TRT01P": PLACEBO, "TRTSDT": 23812.0, "PHENO": "IMMUNOPARALYSIS"},
    {"USUBJID": "S-U1", "TRT01P": ACTIVE, "TRTSDT": None, "PHENO": "MALS"},
    {"USUBJID": "S-F1", "TRT01P": None, "TRTSDT": None, "PHENO": None},
]


def _ae(subject: str, seq: int, soc: str | None, serious: bool) -> dict:
    return {"USUBJID": subject, "AESEQ": float(seq), "AEBODSYS": soc, "AESER": "Y" if serious else "N"}


AE = [
    _ae("S-A1", 1, BLOOD, True),    # anemia
    _ae("S-A1", 2, BLOOD, False),   # anemia again: one participant, two events
    _ae("S-A1", 3, INFECT, True),
    _ae("S-A2", 1, BLOOD, False),   # bleeding
    _ae("S-A3", 1, INFECT, False),
    _ae("S-P1", 1, BLOOD, True),    # anemia
    _ae("S-P2", 1, None, False),    # not coded yet; bleeding flag "N" only
    _ae("S-U1", 1, BLOOD, True),    # never dosed: not in the tables (its anemia flag neither)
]
SUPPAE = [
    {"USUBJID": "S-A1", "RDOMAIN": "AE", "IDVARVAL": "1", "QNAM": "AESIANEM", "QVAL": "Y"},
    {"USUBJID": "S-A1", "RDOMAIN": "AE", "IDVARVAL": "2", "QNAM": "AESIANEM", "QVAL": "Y"},
    {"USUBJID": "S-A1", "RDOMAIN": "AE", "IDVARVAL": "3", "QNAM": "AETRTEM", "QVAL": "Y"},
    {"USUBJID": "S-A2", "RDOMAIN": "AE", "IDVARVAL": "1", "QNAM": "AESIBLD", "QVAL": "Y"},
    {"USUBJID": "S-P1", "RDOMAIN": "AE", "IDVARVAL": "1", "QNAM": "AESIANEM", "QVAL": "Y"},
    {"USUBJID": "S-P2", "RDOMAIN": "AE", "IDVARVAL": "1", "QNAM": "AESIBLD", "QVAL": "N"},
    {"USUBJID": "S-U1", "RDOMAIN": "AE", "IDVARVAL": "1", "QNAM": "AESIANEM", "QVAL": "Y"},
]


def _soc(tables: dict) -> dict:
    """{soc: {arm: (all events, all participants, serious events, serious participants)}}"""
    return {r["soc"]: {arm: (c["all"]["events"], c["all"]["participants"], c["serious"]["events"],
                             c["serious"]["participants"]) for arm, c in r["arms"].items()} for r in tables["by_soc"]}


def _signal(tables: dict, key: str) -> dict:
    """{group: {arm: (participants with an event, N of the group)}} and the product's phenotype."""
    signal = next(s for s in tables["signals"] if s["key"] == key)
    return ({g["group"]: {arm: (c["participants"], c["n"]) for arm, c in g["arms"].items()} for g in signal["groups"]},
            [g["group"] for g in signal["groups"] if g["product_phenotype"]])


def test_counts_by_arm_system_organ_class_and_seriousness():
    tables = safety_tables(ADSL, AE, SUPPAE)
    assert tables["n"] == {ACTIVE: 3, PLACEBO: 2}
    assert _soc(tables) == {
        # active: 5 events (A1 x3, A2, A3) in 3 participants; serious: A1's two. Placebo: P1, P2; serious P1.
        ANY_SOC: {ACTIVE: (5, 3, 2, 1), PLACEBO: (2, 2, 1, 1)},
        BLOOD: {ACTIVE: (3, 2, 1, 1), PLACEBO: (1, 1, 1, 1)},
        INFECT: {ACTIVE: (2, 2, 1, 1), PLACEBO: (0, 0, 0, 0)},
        NOT_CODED: {ACTIVE: (0, 0, 0, 0), PLACEBO: (1, 1, 0, 0)},
    }
    assert [r["soc"] for r in tables["by_soc"]] == [ANY_SOC, BLOOD, INFECT, NOT_CODED]


def test_signals_per_arm_and_phenotype():
    tables = safety_tables(ADSL, AE, SUPPAE)
    anemia, anemia_marked = _signal(tables, "anemia")
    # A1 (MALS) with two anemia events counts once; P1 (MALS); U1 was never dosed.
    assert anemia == {"All": {ACTIVE: (1, 3), PLACEBO: (1, 2)}, "MALS": {ACTIVE: (1, 2), PLACEBO: (1, 1)},
                      "Immunoparalysis": {ACTIVE: (0, 1), PLACEBO: (0, 1)}}
    assert anemia_marked == ["MALS"]  # anakinra is given to MALS only
    bleeding, bleeding_marked = _signal(tables, "bleeding")
    # A2 (immunoparalysis); P2's flag is "N".
    assert bleeding == {"All": {ACTIVE: (1, 3), PLACEBO: (0, 2)}, "MALS": {ACTIVE: (0, 2), PLACEBO: (0, 1)},
                        "Immunoparalysis": {ACTIVE: (1, 1), PLACEBO: (0, 1)}}
    assert bleeding_marked == ["Immunoparalysis"]


def test_builder_rows_give_the_same_tables_as_rows_read_back():
    """The section computes from the builders' rows (ints, str IDVARVAL), the page from XPT (floats)."""
    as_built = [{**r, "AESEQ": int(r["AESEQ"])} for r in AE]
    assert safety_tables(ADSL, as_built, SUPPAE) == safety_tables(ADSL, AE, SUPPAE)


def test_text_cells_and_the_report():
    tables = safety_tables(ADSL, AE, SUPPAE)
    assert count_text(1, 3) == "1/3 (33.3%)" and count_text(0, 0) == "0/0"
    first = soc_rows(tables)[0]
    assert first == {"soc": ANY_SOC, "cells": ["5", "3/3 (100.0%)", "2", "1/3 (33.3%)",
                                               "2", "2/2 (100.0%)", "1", "1/2 (50.0%)"]}
    anemia = next(s for s in tables["signals"] if s["key"] == "anemia")
    assert signal_rows(anemia, (ACTIVE, PLACEBO))[1]["cells"] == ["1/2 (50.0%)", "1/1 (100.0%)"]


_subjects = st.lists(st.tuples(st.sampled_from([ACTIVE, PLACEBO, None]), st.booleans(),
                               st.sampled_from(["MALS", "IMMUNOPARALYSIS"])), min_size=1, max_size=6)
_events = st.lists(st.tuples(st.integers(0, 3), st.sampled_from([BLOOD, INFECT, None]), st.booleans(), st.booleans()),
                   max_size=20)


@settings(deadline=None, max_examples=100)
@given(_subjects, _events)
def test_the_tables_add_up(subjects, events):
    adsl = [{"USUBJID": f"S-{i}", "TRT01P": arm, "TRTSDT": 1.0 if dosed else None, "PHENO": pheno}
            for i, (arm, dosed, pheno) in enumerate(subjects)]
    ae = [_ae(f"S-{who}", seq, soc, serious) for seq, (who, soc, serious, _) in enumerate(events, start=1)]
    suppae = [{"USUBJID": f"S-{who}", "RDOMAIN": "AE", "IDVARVAL": str(seq), "QNAM": "AESIANEM", "QVAL": "Y"}
              for seq, (who, _, _, anemia) in enumerate(events, start=1) if anemia]
    tables = safety_tables(adsl, ae, suppae)
    any_row, *socs = tables["by_soc"]
    for arm in (ACTIVE, PLACEBO):
        for kind in ("all", "serious"):
            cell = any_row["arms"][arm][kind]
            # Every event is in exactly one SOC row; a participant is counted once however many events.
            assert cell["events"] == sum(r["arms"][arm][kind]["events"] for r in socs)
            assert cell["participants"] <= min(cell["events"], tables["n"][arm])
            assert cell["participants"] <= sum(r["arms"][arm][kind]["participants"] for r in socs)
        assert any_row["arms"][arm]["serious"]["events"] <= any_row["arms"][arm]["all"]["events"]
        anemia = next(s for s in tables["signals"] if s["key"] == "anemia")["groups"]
        assert anemia[0]["arms"][arm]["participants"] == sum(g["arms"][arm]["participants"] for g in anemia[1:])
        assert anemia[0]["arms"][arm]["n"] == sum(g["arms"][arm]["n"] for g in anemia[1:]) == tables["n"][arm]
