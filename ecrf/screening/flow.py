"""The screening report's CONSORT-style flow diagram: the geometry of its boxes and arrows, from
a report row's counts (pure; no Django). Counts only, never by arm (ARCHITECTURE.md invariant 6).

The main column runs screened -> eligible -> consented -> randomized -> dosed; between two of
its boxes an arrow to the side leads to who left at that step (not eligible, with the reasons,
and pending at the first step; then the difference of the two counts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

WIDTH = 600
MAIN_X, MAIN_W = 10, 210
SIDE_X, SIDE_W = 270, 320
BOX_H = 40
LINE_H = 15
GAP = 24  # between a side box and the next main box, above and below
MAX_CHARS = 48  # a reason's label in the box; the table below the picture has it in full

def gettext_noop(text: str) -> str:
    """Marks a label for the translation catalogue (makemessages reads the name); the caller's
    ``translate`` translates it when the page is drawn. Keeps this module free of Django."""
    return text


# (box, the report row's count, the box's label). Each box counts a part of the one above:
# "consented" counts the eligible who consented (in this trial consent comes before the central
# lab's phenotype, so the report's own "consented" column also holds the not yet eligible);
# "dosed": at least one administration given (submitted).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("screened", "screened", gettext_noop("Screened")), ("eligible", "eligible", gettext_noop("Eligible")),
    ("consented", "eligible_consented", gettext_noop("Eligible and consented")),
    ("randomized", "randomized", gettext_noop("Randomized")), ("dosed", "dosed", gettext_noop("Dosed")),
)
COUNT_OF = {box: count for box, count, _ in STEPS}


@dataclass(frozen=True)
class Box:
    key: str
    x: float
    y: float
    width: float
    height: float
    lines: list[str]
    count: int
    side: bool = False
    full: list[str] = field(default_factory=list)  # the lines untruncated, for the box's title

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float


def _short(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def _leavers(row: Mapping[str, Any], step: str, label: Callable[[str], str],
             t: Callable[[str], str]) -> list[tuple[str, int, list[str]]]:
    """Who left after `step`, as (key, count, lines): one side box each."""
    if step == "screened":
        reasons = [f"{label(code)}: {n}" for code, n in sorted((row.get("not_eligible_by_reason") or {}).items(),
                                                                key=lambda kv: (-kv[1], kv[0]))]
        out = [("not_eligible", row["not_eligible"], [f"{t(gettext_noop('Not eligible'))}: {row['not_eligible']}", *reasons])]
        if row.get("pending"):
            out.append(("pending", row["pending"], [f"{t(gettext_noop('Eligibility pending'))}: {row['pending']}"]))
        return out
    following = {"eligible": ("consented", gettext_noop("Eligible, not consented")),
                 "consented": ("randomized", gettext_noop("Consented, not randomized")),
                 "randomized": ("dosed", gettext_noop("Randomized, no dose given yet"))}
    if step not in following:
        return []
    nxt, text = following[step]
    n = max(row.get(COUNT_OF[step], 0) - row.get(COUNT_OF[nxt], 0), 0)
    return [(f"not_{nxt}", n, [f"{t(text)}: {n}"])]


def consort_flow(row: Mapping[str, Any], *, label: Callable[[str], str] = str,
                 translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Boxes and arrows of the flow for one report row (a site's or the total)."""
    boxes: list[Box] = []
    arrows: list[Arrow] = []
    y = 10.0
    for i, (key, count_key, text) in enumerate(STEPS):
        count = row.get(count_key, 0)
        main = Box(key, MAIN_X, y, MAIN_W, BOX_H, [translate(text), str(count)], count)
        boxes.append(main)
        if i == len(STEPS) - 1:
            break
        y = main.bottom + GAP
        spine_x = main.centre_x
        for side_key, n, lines in _leavers(row, key, label, translate):
            height = LINE_H * len(lines) + 10
            side = Box(side_key, SIDE_X, y, SIDE_W, height, [_short(x) for x in lines], n, side=True, full=lines)
            boxes.append(side)
            arrows.append(Arrow(spine_x, y + LINE_H, SIDE_X, y + LINE_H))
            y = side.bottom + GAP / 2
        y += GAP / 2
        arrows.append(Arrow(spine_x, main.bottom, spine_x, y))
    return {"width": WIDTH, "height": max(b.bottom for b in boxes) + 10, "boxes": boxes, "arrows": arrows}


COUNT_KEYS = ("screened", "rescreenings", "pending", "not_eligible", "eligible", "consented", "eligible_consented",
              "randomized", "dosed")


def sum_rows(rows: list[Mapping[str, Any]], site: str = "all") -> dict[str, Any]:
    """Report rows added up (the flow of a user's several sites when the report has no total)."""
    out: dict[str, Any] = {"site": site, **{k: 0 for k in COUNT_KEYS}, "not_eligible_by_reason": {},
                           "eligible_by_phenotype": {}}
    for row in rows:
        for k in COUNT_KEYS:
            out[k] += row.get(k, 0)
        for by in ("not_eligible_by_reason", "eligible_by_phenotype"):
            for code, n in (row.get(by) or {}).items():
                out[by][code] = out[by].get(code, 0) + n
    return out
