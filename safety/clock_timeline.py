"""The clock board's timeline: each open reporting clock as a bar from its start to its
deadline, "now" as a vertical line, an overdue clock's overrun past its deadline in its own
colour (pure geometry; no Django). Only what the board's table already shows: the clock's
times and its time state (ARCHITECTURE.md invariant 6: a masked clock's state is arm-blind)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

WIDTH = 720
LEFT, RIGHT, TOP = 220, 16, 24  # the left margin holds each clock's name; the top, "now"
ROW_H, BAR_H = 22, 12
AXIS_H = 30
MAX_ROWS = 40  # the board's table below lists every clock
TICKS = 5


@dataclass(frozen=True)
class ClockSpan:
    key: str
    label: str
    state: str  # running | due_soon | overdue (the board's open clocks)
    started_at: datetime
    due_at: datetime
    state_label: str = ""  # as the board's table says it


@dataclass(frozen=True)
class TimelineBar:
    key: str
    label: str
    state: str
    x: float
    width: float
    y: float
    label_y: float
    overrun_x: float | None  # overdue: from the deadline to now
    overrun_width: float | None
    started_at: datetime
    due_at: datetime
    state_label: str


def clock_timeline(spans: Sequence[ClockSpan], *, now: datetime) -> dict[str, Any] | None:
    """Bars on one time axis from the earliest start to the latest of the deadlines and now,
    with a margin of 3 % on each side. None without clocks."""
    shown = list(spans[:MAX_ROWS])
    if not shown:
        return None
    first = min(s.started_at for s in shown)
    last = max(max(s.due_at for s in shown), now)
    margin = max((last - first) * 0.03, (last - first) / 1000) if last > first else None
    start, end = (first - margin, last + margin) if margin else (first - timedelta(hours=1), last + timedelta(hours=1))
    span = (end - start).total_seconds()
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: datetime) -> float:
        return round(LEFT + plot_w * (t - start).total_seconds() / span, 1)

    bars = []
    for i, s in enumerate(shown):
        y = TOP + i * ROW_H + (ROW_H - BAR_H) / 2
        x1, x2 = x(s.started_at), x(s.due_at)
        overdue = s.state == "overdue" and now > s.due_at
        bars.append(TimelineBar(s.key, s.label, s.state, x1, round(x2 - x1, 1), y, y + BAR_H / 2,
                                x2 if overdue else None, round(x(now) - x2, 1) if overdue else None,
                                s.started_at, s.due_at, s.state_label or s.state))
    bottom = TOP + len(shown) * ROW_H
    ticks = [start + (end - start) * (k + 0.5) / TICKS for k in range(TICKS)]
    return {
        "width": WIDTH, "height": bottom + AXIS_H, "bars": bars, "now_x": x(now), "now": now,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": bottom},
        "ticks": [{"at": t, "x": x(t)} for t in ticks],
        # Django date formats: dates alone when the ticks are a day or more apart (so no two
        # ticks read the same), the hour with the date otherwise.
        "tick_format": "Y-m-d" if (end - start) / TICKS >= timedelta(days=1) else "m-d H:i",
        "more": max(len(spans) - MAX_ROWS, 0),
    }
