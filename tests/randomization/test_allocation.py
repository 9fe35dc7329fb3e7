"""Allocation lists (standards.md "Randomization"): permuted blocks of random sizes per stratum."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.randomization.allocation import (
    AllocationListError,
    Slot,
    generate_allocation_list,
    list_checksum,
    parse_allocation_csv,
    to_csv,
    verify_regeneration,
)

STRATA = [("01", "MALS"), ("01", "immunoparalysis"), ("02", "MALS"), ("02", "immunoparalysis")]
GOLDEN_SEED = "ImmunoSep-2021"


def make(**overrides: object) -> list[Slot]:
    kwargs: dict[str, object] = {
        "strata": STRATA,
        "slots_per_stratum": 40,
        "block_sizes": (4, 6),
        "seed": "seed-1",
    }
    kwargs.update(overrides)
    return generate_allocation_list(**kwargs)  # type: ignore[arg-type]


def arms_of(slots: list[Slot], stratum: tuple[str, ...]) -> list[str]:
    return [s.arm for s in slots if s.stratum == stratum]


def blocks_of(slots: list[Slot]) -> dict[tuple[tuple[str, ...], int], list[Slot]]:
    out: dict[tuple[tuple[str, ...], int], list[Slot]] = {}
    for s in slots:
        out.setdefault((s.stratum, s.block), []).append(s)
    return out


# --- generation ----------------------------------------------------------------------------


def test_deterministic_from_seed() -> None:
    assert make() == make()
    assert make(seed=12345) == make(seed="12345")  # the recorded seed is its text


def test_known_answer() -> None:
    # Pins the derivation (SHA-256 of seed + stratum -> random.Random): a change to it, or to
    # Python's random, would make recorded lists fail verification, so it must be noticed here.
    slots = generate_allocation_list(
        strata=[("01", "MALS"), ("01", "immunoparalysis")],
        slots_per_stratum=12,
        block_sizes=(4, 6),
        seed=GOLDEN_SEED,
    )
    code = {"active": "A", "placebo": "P"}
    assert "".join(code[a] for a in arms_of(slots, ("01", "MALS"))) == "AAPPPAAPAPAAPAPP"
    assert "".join(code[a] for a in arms_of(slots, ("01", "immunoparalysis"))) == ("PPAAAPAAPPPAAP")
    assert list_checksum(slots) == (
        "3737fbb7490570a528b9352da823de5f1e7f1a198e59f256ea8b78c91e707027"
    )


def test_reproducible_in_another_process_with_another_hash_seed() -> None:
    # Never Python's hash(): it is salted per process (PYTHONHASHSEED).
    script = (
        "from ecrf.randomization.allocation import generate_allocation_list, list_checksum;"
        "print(list_checksum(generate_allocation_list(strata=[('01', 'MALS'), "
        "('01', 'immunoparalysis')], slots_per_stratum=12, block_sizes=(4, 6), "
        f"seed={GOLDEN_SEED!r})))"
    )
    root = Path(__file__).resolve().parents[2]
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script],
            check=False,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == (
            "3737fbb7490570a528b9352da823de5f1e7f1a198e59f256ea8b78c91e707027"
        )


def test_different_seeds_differ() -> None:
    assert make(seed="seed-1") != make(seed="seed-2")
    a, b = make(seed="seed-1"), make(seed="seed-2")
    assert any(arms_of(a, s) != arms_of(b, s) for s in STRATA)


def test_strata_get_different_sequences() -> None:
    slots = make(slots_per_stratum=60)
    assert len({tuple(arms_of(slots, s)) for s in STRATA}) == len(STRATA)


def test_each_block_balanced_and_sized_from_the_set() -> None:
    slots = make(slots_per_stratum=200)
    for members in blocks_of(slots).values():
        size = members[0].block_size
        assert size in {4, 6}
        assert len(members) == size
        assert all(m.block_size == size for m in members)
        assert Counter(m.arm for m in members) == {"active": size // 2, "placebo": size // 2}


def test_both_block_sizes_are_used() -> None:
    slots = make(slots_per_stratum=200)
    assert {s.block_size for s in slots} == {4, 6}


def test_unequal_ratio() -> None:
    slots = make(block_sizes=(3, 6), ratio=(2, 1))
    for members in blocks_of(slots).values():
        size = members[0].block_size
        assert Counter(m.arm for m in members) == {"active": 2 * size // 3, "placebo": size // 3}


def test_sequences_and_blocks_are_numbered_from_one() -> None:
    slots = make()
    for stratum in STRATA:
        mine = [s for s in slots if s.stratum == stratum]
        assert [s.sequence for s in mine] == list(range(1, len(mine) + 1))
        assert [k for k, _ in groupby(s.block for s in mine)] == list(range(1, mine[-1].block + 1))


def test_complete_blocks_only_and_at_least_the_requested_slots() -> None:
    for n in (1, 5, 37, 100):
        slots = make(slots_per_stratum=n)
        for stratum in STRATA:
            mine = [s for s in slots if s.stratum == stratum]
            assert n <= len(mine) < n + 6
            last_block = [s for s in mine if s.block == mine[-1].block]
            assert len(last_block) == last_block[0].block_size


def test_stratum_sequence_independent_of_other_strata() -> None:
    alone = make(strata=[("02", "MALS")])
    together = make(strata=[("03", "MALS"), ("02", "MALS"), ("01", "MALS")])
    assert arms_of(alone, ("02", "MALS")) == arms_of(together, ("02", "MALS"))
    assert [s for s in together if s.stratum == ("02", "MALS")] == alone


def test_longer_list_extends_the_shorter_one() -> None:
    short, long = make(slots_per_stratum=20), make(slots_per_stratum=80)
    for stratum in STRATA:
        s = [x for x in short if x.stratum == stratum]
        assert [x for x in long if x.stratum == stratum][: len(s)] == s


def test_block_size_order_does_not_matter() -> None:
    assert make(block_sizes=(4, 6)) == make(block_sizes=(6, 4))


@pytest.mark.parametrize(
    "bad",
    [
        {"block_sizes": (3, 4)},  # 3 is not a multiple of the 1:1 ratio sum
        {"block_sizes": (4, 6), "ratio": (2, 1)},  # not multiples of 3
        {"block_sizes": ()},
        {"block_sizes": (0,)},
        {"block_sizes": (4, 4)},
        {"ratio": (1, 0)},
        {"ratio": (1, 1, 1)},
        {"slots_per_stratum": 0},
        {"seed": ""},
        {"seed": True},
        {"strata": []},
        {"strata": [("01", "MALS"), ("01", "MALS")]},
        {"strata": [("01|x", "MALS")]},
        {"strata": [("", "MALS")]},
        {"strata": [(" 01", "MALS")]},
        {"strata": [()]},
    ],
)
def test_invalid_parameters(bad: dict[str, object]) -> None:
    # Wrong types raise TypeError, wrong values ValueError.
    with pytest.raises((ValueError, TypeError)):
        make(**bad)


def test_ten_thousand_slots_generate() -> None:
    # Performance was checked by hand (~20 ms); here only the size.
    slots = make(strata=[("01", "MALS")], slots_per_stratum=10_000)
    assert 10_000 <= len(slots) < 10_006


# --- checksum, CSV, verification ---------------------------------------------------------------


def test_checksum_stable_and_order_independent() -> None:
    slots = make()
    assert list_checksum(slots) == list_checksum(make())
    assert list_checksum(slots) == list_checksum(list(reversed(slots)))
    assert len(list_checksum(slots)) == 64
    assert list_checksum(slots) != list_checksum(make(seed="other"))
    flipped = [replace(slots[0], arm="placebo" if slots[0].arm == "active" else "active")]
    assert list_checksum(flipped + slots[1:]) != list_checksum(slots)


def test_csv_round_trip() -> None:
    slots = make()
    text = to_csv(slots)
    assert text.splitlines()[0] == "stratum,sequence,block,block_size,arm"
    assert text.splitlines()[1].startswith("01|MALS,1,1,")
    parsed = parse_allocation_csv(text, known_strata=set(STRATA))
    assert sorted(parsed, key=lambda s: (s.stratum, s.sequence)) == sorted(
        slots, key=lambda s: (s.stratum, s.sequence)
    )
    assert list_checksum(parsed) == list_checksum(slots)
    assert to_csv(parsed) == text


def test_csv_round_trip_with_commas_in_factors() -> None:
    slots = make(strata=[("Athens, Attikon", "MALS")], slots_per_stratum=8)
    assert parse_allocation_csv(to_csv(slots), known_strata=None) == slots


def test_parse_tolerates_bom_crlf_and_padding() -> None:
    slots = make(slots_per_stratum=8)
    text = "\ufeff" + to_csv(slots).replace(",", " , ").replace("\n", "\r\n") + "\r\n"
    assert parse_allocation_csv(text, known_strata=set(STRATA)) == parse_allocation_csv(
        to_csv(slots), known_strata=None
    )


def test_verify_regeneration() -> None:
    slots = make(slots_per_stratum=33)
    assert verify_regeneration(slots, seed="seed-1", block_sizes=(4, 6), ratio=(1, 1))
    assert verify_regeneration(list(reversed(slots)), seed="seed-1", block_sizes=(6, 4))
    assert not verify_regeneration(slots, seed="seed-2", block_sizes=(4, 6))
    assert not verify_regeneration(slots, seed="seed-1", block_sizes=(2, 4))
    tampered = [replace(slots[5], arm="placebo" if slots[5].arm == "active" else "active")]
    assert not verify_regeneration(
        slots[:5] + tampered + slots[6:], seed="seed-1", block_sizes=(4, 6)
    )
    # A truncated stratum (incomplete last block) is not the generated list.
    assert not verify_regeneration(slots[:-1], seed="seed-1", block_sizes=(4, 6))
    assert not verify_regeneration([], seed="seed-1", block_sizes=(4, 6))


def test_verify_regeneration_of_an_imported_list() -> None:
    slots = make()
    parsed = parse_allocation_csv(to_csv(slots), known_strata=set(STRATA))
    assert verify_regeneration(parsed, seed="seed-1", block_sizes=(4, 6), ratio=(1, 1))


# --- import refusals -----------------------------------------------------------------------


HEADER = "stratum,sequence,block,block_size,arm\n"
GOOD_BLOCK = "01|MALS,1,1,4,active\n01|MALS,2,1,4,placebo\n01|MALS,3,1,4,placebo\n" + (
    "01|MALS,4,1,4,active\n"
)


def refusal(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(AllocationListError) as info:
        parse_allocation_csv(text, known_strata=kwargs.pop("known_strata", None), **kwargs)  # type: ignore[arg-type]
    assert info.value.problems
    return [str(p) for p in info.value.problems]


def test_good_minimal_file() -> None:
    slots = parse_allocation_csv(HEADER + GOOD_BLOCK, known_strata={("01", "MALS")})
    assert [s.arm for s in slots] == ["active", "placebo", "placebo", "active"]


def test_refuses_missing_columns() -> None:
    problems = refusal("stratum,sequence,arm\n01|MALS,1,active\n")
    assert problems == ["line 1: missing columns: block, block_size."]


def test_refuses_unknown_and_duplicated_columns() -> None:
    problems = refusal("stratum,sequence,block,block_size,arm,arm,kit\n")
    assert "line 1: unknown columns: kit." in problems
    assert "line 1: duplicated columns: arm." in problems


def test_refuses_empty_file() -> None:
    assert refusal("") == ["the file is empty."]
    assert refusal(HEADER) == ["the file has no allocation rows."]


def test_refuses_unknown_arm() -> None:
    text = HEADER + GOOD_BLOCK.replace("2,1,4,placebo", "2,1,4,Placebo")
    # Only the row's own problem: the stratum's block checks would merely echo it.
    assert refusal(text) == ["line 3: unknown arm 'Placebo' (expected one of active, placebo)."]


def test_refuses_unknown_stratum() -> None:
    problems = refusal(HEADER + GOOD_BLOCK, known_strata={("02", "MALS")})
    assert problems[:4] == [f"line {n}: unknown stratum '01|MALS'." for n in (2, 3, 4, 5)]


def test_refuses_inconsistent_stratum_factors() -> None:
    text = HEADER + GOOD_BLOCK + "01,1,1,2,active\n01,2,1,2,placebo\n"
    problems = refusal(text)
    assert "line 6: stratum '01' has 1 factors, expected 2." in problems


def test_refuses_bad_numbers_and_field_counts() -> None:
    text = HEADER + GOOD_BLOCK + "01|MALS,x,2,4,active\n01|MALS,6,0,4,active\n01|MALS,7,2\n"
    problems = refusal(text)
    assert "line 6: sequence must be a positive integer, got 'x'." in problems
    assert "line 7: block must be a positive integer, got '0'." in problems
    assert "line 8: expected 5 fields, found 3." in problems


def test_refuses_sequence_gap() -> None:
    text = (
        HEADER
        + GOOD_BLOCK
        + GOOD_BLOCK.replace(",1,4,", ",2,4,")
        .replace("01|MALS,1,", "01|MALS,6,")
        .replace("01|MALS,2,", "01|MALS,7,")
        .replace("01|MALS,3,", "01|MALS,8,")
        .replace("01|MALS,4,", "01|MALS,9,")
    )
    problems = refusal(text)
    assert problems == ["stratum '01|MALS': missing sequences 5."]


def test_refuses_duplicate_sequence() -> None:
    text = HEADER + GOOD_BLOCK + "01|MALS,4,1,4,placebo\n"
    problems = refusal(text)
    assert "line 6: stratum '01|MALS': duplicate sequence 4 (first on line 5)." in problems


def test_refuses_unbalanced_block() -> None:
    text = HEADER + GOOD_BLOCK.replace("3,1,4,placebo", "3,1,4,active")
    assert refusal(text) == [
        (
            "line 2: stratum '01|MALS', block 1: unbalanced block, 3 active and 1 placebo "
            "(expected 2 and 2)."
        )
    ]


def test_refuses_incomplete_block() -> None:
    text = HEADER + GOOD_BLOCK + "01|MALS,5,2,4,active\n01|MALS,6,2,4,placebo\n"
    assert refusal(text) == [
        "line 6: stratum '01|MALS', block 2: incomplete block, 2 rows for block size 4."
    ]


def test_refuses_block_size_mismatch_within_block() -> None:
    text = HEADER + GOOD_BLOCK.replace("4,1,4,active", "4,1,6,active")
    assert refusal(text) == [
        "line 2: stratum '01|MALS', block 1: rows declare different block sizes [4, 6]."
    ]


def test_refuses_block_size_outside_the_configured_set() -> None:
    text = HEADER + GOOD_BLOCK
    assert refusal(text, block_sizes=(2, 6)) == [
        "line 2: stratum '01|MALS', block 1: block size 4 is not one of [2, 6]."
    ]


def test_refuses_blocks_out_of_order() -> None:
    text = HEADER + GOOD_BLOCK.replace(",1,4,", ",2,4,")
    problems = refusal(text)
    assert problems[0].startswith("line 2: stratum '01|MALS': sequence 1 is in block 2")


def test_refusal_is_whole_and_lists_every_problem() -> None:
    slots = make()
    lines = to_csv(slots).splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",drug"
    lines[10] = lines[10].replace("01|MALS", "99|MALS", 1)
    with pytest.raises(AllocationListError) as info:
        parse_allocation_csv("\n".join(lines) + "\n", known_strata=set(STRATA))
    rows = {p.row for p in info.value.problems}
    assert {4, 11} <= rows
    assert "Allocation list refused:" in str(info.value)


# --- properties ----------------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(
    seed=st.one_of(st.integers(min_value=0), st.text(min_size=1).filter(lambda s: s.strip())),
    n=st.integers(min_value=1, max_value=120),
    sizes=st.sampled_from([(2,), (2, 4), (4, 6), (4, 6, 8)]),
)
def test_every_prefix_of_complete_blocks_is_balanced(
    seed: int | str, n: int, sizes: tuple[int, ...]
) -> None:
    slots = generate_allocation_list(
        strata=[("01", "MALS")], slots_per_stratum=n, block_sizes=sizes, seed=seed
    )
    diff = 0
    for i, slot in enumerate(slots):
        diff += 1 if slot.arm == "active" else -1
        at_block_end = i + 1 == len(slots) or slots[i + 1].block != slot.block
        if at_block_end:
            assert diff == 0
        # Within a block the imbalance never exceeds half the block.
        assert abs(diff) <= slot.block_size // 2
    assert slots[-1].block == len({s.block for s in slots})
    assert verify_regeneration(slots, seed=seed, block_sizes=sizes, ratio=(1, 1))


@settings(deadline=None, max_examples=40)
@given(
    seed=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
    n=st.integers(min_value=1, max_value=40),
)
def test_round_trip_property(seed: str, n: int) -> None:
    slots = generate_allocation_list(
        strata=STRATA, slots_per_stratum=n, block_sizes=(2, 4), seed=seed
    )
    parsed = parse_allocation_csv(to_csv(slots), known_strata=set(STRATA), block_sizes=(2, 4))
    assert list_checksum(parsed) == list_checksum(slots)
    assert verify_regeneration(parsed, seed=seed, block_sizes=(2, 4), ratio=(1, 1))
