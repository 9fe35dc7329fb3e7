"""Allocation lists: permuted blocks of random sizes, one sequence per stratum (pure, no Django).

standards.md "Randomization": permuted blocks with random, concealed block sizes, one sequence per
stratum (site x phenotype by default); the list is generated from a recorded seed by the unblinded
statistician, or imported from the statistician's file with a checksum, and can be regenerated
for verification from the seed.

Reproducibility: each stratum gets its own ``random.Random`` seeded from SHA-256 of the recorded
seed and the stratum (never Python's ``hash()``, which is salted per process), so a stratum's
sequence depends only on (seed, stratum, block sizes, ratio): adding a site never changes
another site's list, and the list can be regenerated in any process.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Arm = Literal["active", "placebo"]
# Ratio order follows ARMS: ratio=(a, p) is active:placebo (Protocol.allocation_ratio).
ARMS: tuple[Arm, Arm] = ("active", "placebo")
CSV_COLUMNS: tuple[str, ...] = ("stratum", "sequence", "block", "block_size", "arm")
# Stratum factors are joined with this in the CSV "stratum" column, e.g. "ATH-01|MALS".
STRATUM_SEPARATOR = "|"
# Bump if the derivation below ever changes; old lists then still verify under the old version.
_SEED_DERIVATION_VERSION = "ecrf-allocation-v1"


@dataclass(frozen=True)
class Slot:
    stratum: tuple[str, ...]
    sequence: int  # 1-based position within the stratum
    block: int  # 1-based block number within the stratum
    block_size: int
    arm: Arm

    def __post_init__(self) -> None:
        if self.arm not in ARMS:
            raise ValueError(f"Unknown arm {self.arm!r}.")
        if self.sequence < 1 or self.block < 1 or self.block_size < 1:
            raise ValueError("sequence, block and block_size must be positive.")


@dataclass(frozen=True)
class AllocationProblem:
    row: int | None  # line number in the file (the header is line 1); None for list-wide issues
    message: str

    def __str__(self) -> str:
        return f"line {self.row}: {self.message}" if self.row is not None else self.message


class AllocationListError(ValueError):
    """An allocation list refused whole; ``problems`` lists every row-level problem found."""

    def __init__(self, problems: Sequence[AllocationProblem]) -> None:
        self.problems: list[AllocationProblem] = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"Allocation list refused: {shown}{more}")


# --- validation of the generation parameters -------------------------------------------------


def _check_ratio(ratio: Sequence[int]) -> tuple[int, int]:
    if len(ratio) != 2 or any(isinstance(r, bool) or not isinstance(r, int) for r in ratio):
        raise ValueError(f"ratio must be two ints (active, placebo), got {ratio!r}.")
    if ratio[0] < 1 or ratio[1] < 1:
        raise ValueError(f"ratio parts must be positive, got {ratio!r}.")
    return (ratio[0], ratio[1])


def _check_block_sizes(block_sizes: Sequence[int], ratio: tuple[int, int]) -> tuple[int, ...]:
    sizes = list(block_sizes)
    if not sizes:
        raise ValueError("block_sizes must not be empty.")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"block sizes must be positive ints, got {block_sizes!r}.")
    if len(set(sizes)) != len(sizes):
        # A repeated size would silently weight the random draw.
        raise ValueError(f"block sizes must be distinct, got {block_sizes!r}.")
    # Every block is balanced per the ratio, so its size must be a multiple of the ratio sum.
    unit = sum(ratio)
    bad = [s for s in sizes if s % unit]
    if bad:
        raise ValueError(
            f"block sizes {bad} are not multiples of {unit} (the ratio {ratio[0]}:{ratio[1]})."
        )
    # Sorted, so (6, 4) and (4, 6) give the same list.
    return tuple(sorted(sizes))


def _check_seed(seed: int | str) -> str:
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise TypeError(f"seed must be an int or a str, got {seed!r}.")
    text = str(seed)
    if not text.strip():
        raise ValueError("seed must not be blank.")
    return text


def _check_stratum(stratum: Sequence[str]) -> tuple[str, ...]:
    parts = tuple(stratum)
    if not parts:
        raise ValueError("a stratum needs at least one factor.")
    for part in parts:
        # The CSV form must parse back to the same stratum.
        if not isinstance(part, str) or not part or part != part.strip():
            raise ValueError(f"stratum factors must be non-blank, unpadded strings: {stratum!r}.")
        if STRATUM_SEPARATOR in part:
            raise ValueError(f"stratum factor {part!r} contains {STRATUM_SEPARATOR!r}.")
    return parts


# --- generation ----------------------------------------------------------------------------


def _stratum_rng(seed_text: str, stratum: tuple[str, ...]) -> random.Random:
    # Reproducible across processes: SHA-256 of a canonical encoding, never hash().
    material = json.dumps([_SEED_DERIVATION_VERSION, seed_text, list(stratum)], ensure_ascii=True)
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _stratum_blocks(
    seed_text: str, stratum: tuple[str, ...], sizes: tuple[int, ...], ratio: tuple[int, int]
) -> Iterator[list[Arm]]:
    """The stratum's endless stream of blocks; any prefix is the same whatever the list length."""
    rng = _stratum_rng(seed_text, stratum)
    unit = sum(ratio)
    while True:
        # Concealed, random block sizes: drawn per block from the configured set.
        size = rng.choice(sizes)
        per_unit = size // unit
        # Permuted block: exactly ratio-balanced, order shuffled.
        arms: list[Arm] = [ARMS[0]] * (ratio[0] * per_unit) + [ARMS[1]] * (ratio[1] * per_unit)
        rng.shuffle(arms)
        yield arms


def _generate_stratum(
    seed_text: str,
    stratum: tuple[str, ...],
    min_slots: int,
    sizes: tuple[int, ...],
    ratio: tuple[int, int],
) -> list[Slot]:
    slots: list[Slot] = []
    # Complete blocks only: stop at the first block boundary at or past min_slots.
    for block_no, arms in enumerate(_stratum_blocks(seed_text, stratum, sizes, ratio), start=1):
        if len(slots) >= min_slots:
            break
        size = len(arms)
        start = len(slots)
        slots.extend(
            Slot(stratum=stratum, sequence=start + i + 1, block=block_no, block_size=size, arm=arm)
            for i, arm in enumerate(arms)
        )
    return slots


def generate_allocation_list(
    *,
    strata: Sequence[tuple[str, ...]],
    slots_per_stratum: int,
    block_sizes: Sequence[int],
    seed: int | str,
    ratio: tuple[int, int] = (1, 1),
) -> list[Slot]:
    """Generate the allocation list: for each stratum, complete permuted blocks until it holds at
    least ``slots_per_stratum`` slots. Deterministic from (seed, stratum, block sizes, ratio)."""
    ratio_ = _check_ratio(ratio)
    sizes = _check_block_sizes(block_sizes, ratio_)
    seed_text = _check_seed(seed)
    if isinstance(slots_per_stratum, bool) or not isinstance(slots_per_stratum, int):
        raise TypeError("slots_per_stratum must be an int.")
    if slots_per_stratum < 1:
        raise ValueError("slots_per_stratum must be at least 1.")
    checked = [_check_stratum(s) for s in strata]
    if not checked:
        raise ValueError("strata must not be empty.")
    if len(set(checked)) != len(checked):
        raise ValueError("strata must be distinct.")
    out: list[Slot] = []
    for stratum in checked:
        out.extend(_generate_stratum(seed_text, stratum, slots_per_stratum, sizes, ratio_))
    return out


def verify_regeneration(
    slots: Sequence[Slot],
    *,
    seed: int | str,
    block_sizes: Sequence[int],
    ratio: tuple[int, int] = (1, 1),
) -> bool:
    """True if regenerating from the seed gives exactly these slots, stratum by stratum.

    Each stratum is regenerated to the length it has in ``slots``; since the block stream does not
    depend on the list length, a list generated with any ``slots_per_stratum`` verifies.
    """
    ratio_ = _check_ratio(ratio)
    sizes = _check_block_sizes(block_sizes, ratio_)
    seed_text = _check_seed(seed)
    if not slots:
        return False
    by_stratum: dict[tuple[str, ...], list[Slot]] = defaultdict(list)
    for slot in slots:
        by_stratum[slot.stratum].append(slot)
    for stratum, given in by_stratum.items():
        try:
            stratum_ = _check_stratum(stratum)
        except ValueError:
            return False
        expected = _generate_stratum(seed_text, stratum_, len(given), sizes, ratio_)
        if sorted(given, key=lambda s: s.sequence) != expected:
            return False
    return True


# --- canonical CSV and checksum ---------------------------------------------------------------


def _sort_key(slot: Slot) -> tuple[tuple[str, ...], int]:
    return (slot.stratum, slot.sequence)


def to_csv(slots: Sequence[Slot]) -> str:
    """Canonical CSV: header, rows sorted by stratum then sequence, "\\n" line ends, UTF-8 text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for slot in sorted(slots, key=_sort_key):
        writer.writerow(
            [
                STRATUM_SEPARATOR.join(slot.stratum),
                slot.sequence,
                slot.block,
                slot.block_size,
                slot.arm,
            ]
        )
    return buf.getvalue()


def list_checksum(slots: Sequence[Slot]) -> str:
    """SHA-256 (hex) of the canonical CSV: the same slots give the same checksum in any order."""
    return hashlib.sha256(to_csv(slots).encode("utf-8")).hexdigest()


# --- import ---------------------------------------------------------------------------------


def _positive_int(raw: str) -> int | None:
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        return None
    value = int(text)
    return value if value >= 1 else None


def _normalized_stratum(raw: str) -> str:
    return STRATUM_SEPARATOR.join(part.strip() for part in raw.strip().split(STRATUM_SEPARATOR))


def parse_allocation_csv(
    text: str,
    *,
    known_strata: set[tuple[str, ...]] | None = None,
    ratio: tuple[int, int] = (1, 1),
    block_sizes: Sequence[int] | None = None,
) -> list[Slot]:
    """Parse and check a statistician's allocation file; refuse it whole on any problem.

    Checks: required columns; per row, a known stratum, positive integer sequence/block/size and
    a known arm; per stratum, sequences 1..n without gaps or duplicates and blocks numbered
    1..m in order; per block, a single declared size equal to its row count, balanced per the
    ratio, and (if ``block_sizes`` is given) a size from that set.
    """
    ratio_ = _check_ratio(ratio)
    allowed_sizes = set(_check_block_sizes(block_sizes, ratio_)) if block_sizes else None
    problems: list[AllocationProblem] = []

    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header: list[str] | None = None
    for raw_header in reader:
        if any(cell.strip() for cell in raw_header):
            header = [cell.strip() for cell in raw_header]
            break
    if header is None:
        raise AllocationListError([AllocationProblem(None, "the file is empty.")])
    header_line = reader.line_num
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        problems.append(AllocationProblem(header_line, f"missing columns: {', '.join(missing)}."))
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        problems.append(AllocationProblem(header_line, f"unknown columns: {', '.join(unknown)}."))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(
            AllocationProblem(header_line, f"duplicated columns: {', '.join(duplicated)}.")
        )
    if problems:
        raise AllocationListError(problems)
    col = {name: header.index(name) for name in CSV_COLUMNS}

    # Row by row: each row's own fields.
    rows: list[tuple[int, Slot]] = []
    # Strata with a faulty row skip the block checks, which would only echo the row's problem.
    tainted: set[str] = set()
    arity: int | None = None
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) != len(header):
            if len(cells) > col["stratum"]:
                tainted.add(_normalized_stratum(cells[col["stratum"]]))
            problems.append(
                AllocationProblem(line, f"expected {len(header)} fields, found {len(cells)}.")
            )
            continue
        row_problems: list[str] = []
        stratum_text = cells[col["stratum"]].strip()
        stratum = tuple(part.strip() for part in stratum_text.split(STRATUM_SEPARATOR))
        if not stratum_text or not all(stratum):
            row_problems.append(f"blank stratum or stratum factor {stratum_text!r}.")
        elif known_strata is not None and stratum not in known_strata:
            row_problems.append(f"unknown stratum {stratum_text!r}.")
        elif known_strata is None:
            # Without a list of known strata, at least every row must have the same factors.
            if arity is None:
                arity = len(stratum)
            elif len(stratum) != arity:
                row_problems.append(
                    f"stratum {stratum_text!r} has {len(stratum)} factors, expected {arity}."
                )
        numbers: dict[str, int] = {}
        for name in ("sequence", "block", "block_size"):
            value = _positive_int(cells[col[name]])
            if value is None:
                row_problems.append(f"{name} must be a positive integer, got {cells[col[name]]!r}.")
            else:
                numbers[name] = value
        arm = cells[col["arm"]].strip()
        if arm not in ARMS:
            row_problems.append(f"unknown arm {arm!r} (expected one of {', '.join(ARMS)}).")
        if row_problems:
            problems.extend(AllocationProblem(line, msg) for msg in row_problems)
            tainted.add(STRATUM_SEPARATOR.join(stratum))
            continue
        slot = Slot(
            stratum=stratum,
            sequence=numbers["sequence"],
            block=numbers["block"],
            block_size=numbers["block_size"],
            arm=arm,  # type: ignore[arg-type]  # checked against ARMS above
        )
        rows.append((line, slot))

    if not rows and not problems:
        problems.append(AllocationProblem(None, "the file has no allocation rows."))

    # Per stratum: sequences, then blocks.
    by_stratum: dict[tuple[str, ...], list[tuple[int, Slot]]] = defaultdict(list)
    for line, slot in rows:
        by_stratum[slot.stratum].append((line, slot))
    for stratum, entries in by_stratum.items():
        if STRATUM_SEPARATOR.join(stratum) in tainted:
            continue
        problems.extend(_check_stratum_rows(stratum, entries, ratio_, allowed_sizes))

    if problems:
        problems.sort(key=lambda p: (p.row is None, p.row or 0))
        raise AllocationListError(problems)
    return [slot for _, slot in sorted(rows, key=lambda r: _sort_key(r[1]))]


def _check_stratum_rows(
    stratum: tuple[str, ...],
    entries: list[tuple[int, Slot]],
    ratio: tuple[int, int],
    allowed_sizes: set[int] | None,
) -> list[AllocationProblem]:
    problems: list[AllocationProblem] = []
    name = STRATUM_SEPARATOR.join(stratum)

    # No slot is skipped and none is used twice: sequences are exactly 1..n.
    first_line: dict[int, int] = {}
    for line, slot in entries:
        if slot.sequence in first_line:
            problems.append(
                AllocationProblem(
                    line,
                    f"stratum {name!r}: duplicate sequence {slot.sequence} "
                    f"(first on line {first_line[slot.sequence]}).",
                )
            )
        else:
            first_line[slot.sequence] = line
    highest = max(first_line)
    gaps = [n for n in range(1, highest + 1) if n not in first_line]
    if gaps:
        shown = ", ".join(str(n) for n in gaps[:10]) + (" ..." if len(gaps) > 10 else "")
        problems.append(AllocationProblem(None, f"stratum {name!r}: missing sequences {shown}."))

    # Blocks: contiguous runs of sequences, numbered 1..m in sequence order.
    ordered = sorted(
        ((line, slot) for line, slot in entries if first_line[slot.sequence] == line),
        key=lambda e: e[1].sequence,
    )
    blocks: dict[int, list[tuple[int, Slot]]] = defaultdict(list)
    previous_block = 0
    for line, slot in ordered:
        if slot.block not in (previous_block, previous_block + 1):
            problems.append(
                AllocationProblem(
                    line,
                    f"stratum {name!r}: sequence {slot.sequence} is in block {slot.block}, "
                    f"but follows block {previous_block} (blocks must be numbered 1, 2, ... in "
                    "sequence order).",
                )
            )
        previous_block = max(previous_block, slot.block)
        blocks[slot.block].append((line, slot))

    for block_no, members in sorted(blocks.items()):
        first_line_of_block = members[0][0]
        declared = {slot.block_size for _, slot in members}
        if len(declared) > 1:
            problems.append(
                AllocationProblem(
                    first_line_of_block,
                    f"stratum {name!r}, block {block_no}: rows declare different block sizes "
                    f"{sorted(declared)}.",
                )
            )
            continue
        size = declared.pop()
        if allowed_sizes is not None and size not in allowed_sizes:
            problems.append(
                AllocationProblem(
                    first_line_of_block,
                    f"stratum {name!r}, block {block_no}: block size {size} is not one of "
                    f"{sorted(allowed_sizes)}.",
                )
            )
        if len(members) != size:
            problems.append(
                AllocationProblem(
                    first_line_of_block,
                    f"stratum {name!r}, block {block_no}: incomplete block, {len(members)} rows "
                    f"for block size {size}.",
                )
            )
            continue
        # Permuted blocks are balanced per the ratio within every block.
        unit = sum(ratio)
        if size % unit:
            problems.append(
                AllocationProblem(
                    first_line_of_block,
                    f"stratum {name!r}, block {block_no}: block size {size} can't be balanced "
                    f"{ratio[0]}:{ratio[1]}.",
                )
            )
            continue
        active = sum(1 for _, slot in members if slot.arm == ARMS[0])
        want_active = ratio[0] * size // unit
        if active != want_active:
            problems.append(
                AllocationProblem(
                    first_line_of_block,
                    f"stratum {name!r}, block {block_no}: unbalanced block, {active} active and "
                    f"{size - active} placebo (expected {want_active} and {size - want_active}).",
                )
            )
    return problems


__all__ = [
    "ARMS",
    "CSV_COLUMNS",
    "STRATUM_SEPARATOR",
    "AllocationListError",
    "AllocationProblem",
    "Slot",
    "generate_allocation_list",
    "list_checksum",
    "parse_allocation_csv",
    "to_csv",
    "verify_regeneration",
]
