"""Enrolment over time on the screening report: cumulative randomized participants by week, one
line per series (a site, or a phenotype), as the geometry of a small line chart (pure; no
Django). The series are sites and phenotypes, never the arm (ARCHITECTURE.md invariant 6)."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 120, 12, 30  # the right margin holds each line's label
SERIES_CLASSES = 6  # series-0 .. series-5 in ecrf.css, then again


def week_start(day: dt.date) -> dt.date:
    """The Monday of the day's ISO week."""
    return day - dt.timedelta(days=day.weekday())


def weeks_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays from the week of ``first`` to the week of ``last``, both included."""
    start, end = week_start(first), week_start(last)
    return [start + dt.timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]


def cumulative_by_week(dates: Sequence[dt.date], weeks: Sequence[dt.date]) -> list[int]:
    """For each week, how many dates fall on or before its Sunday."""
    ordered = sorted(dates)
    return [bisect_right(ordered, w + dt.timedelta(days=6)) for w in weeks]


def _nice_ceiling(n: int) -> int:
    """The y axis' top: n rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if n <= 1:
        return 1
    power = 10 ** math.floor(math.log10(n))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= n)


@dataclass(frozen=True)
class Line:
    name: str
    css: str
    counts: list[int]
    points: str  # "x,y x,y ..." for a polyline
    end_x: float
    end_y: float
    total: int
    label_y: float = 0.0  # the line's name at its end, moved apart from the other names


LABEL_GAP = 13


def _spread(ends: list[float], low: float, high: float) -> list[float]:
    """Label heights near the lines' ends, at least LABEL_GAP apart, in the same order."""
    order = sorted(range(len(ends)), key=lambda i: ends[i])
    placed: dict[int, float] = {}
    previous = low - LABEL_GAP
    for i in order:
        placed[i] = max(ends[i], previous + LABEL_GAP)
        previous = placed[i]
    overflow = previous - high
    if overflow > 0:  # pushed below the plot: move the whole stack up
        placed = {i: v - overflow for i, v in placed.items()}
    return [round(placed[i], 1) for i in range(len(ends))]


def enrolment_chart(series: Mapping[str, Sequence[dt.date]], *, today: dt.date) -> dict[str, Any] | None:
    """The chart of the series' cumulative counts by week, from the week of the first date to
    this week. None when nothing is enrolled yet."""
    everything = [d for dates in series.values() for d in dates]
    if not everything:
        return None
    weeks = weeks_between(min(everything), max(today, max(everything)))
    top = _nice_ceiling(max(len(dates) for dates in series.values()))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / max(len(weeks) - 1, 1), 1)

    def y(n: int) -> float:
        return round(TOP + plot_h * (1 - n / top), 1)

    lines = []
    for k, (name, dates) in enumerate(series.items()):
        counts = cumulative_by_week(dates, weeks)
        lines.append(Line(name, f"series-{k % SERIES_CLASSES}", counts,
                          " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(counts)), x(len(weeks) - 1), y(counts[-1]),
                          counts[-1]))
    labels = _spread([line.end_y for line in lines], TOP, HEIGHT - BOTTOM)
    lines = [Line(**{**line.__dict__, "label_y": label_y}) for line, label_y in zip(lines, labels, strict=True)]
    step = max(1, math.ceil(len(weeks) / 6))
    return {
        "width": WIDTH, "height": HEIGHT, "weeks": weeks, "lines": lines,
        "x_ticks": [{"label": w.isoformat(), "x": x(i)} for i, w in enumerate(weeks) if i % step == 0],
        "y_ticks": [{"n": n, "y": y(n)} for n in sorted({0, top // 2, top})],
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "table": [{"week": w, "counts": [line.counts[i] for line in lines]} for i, w in enumerate(weeks)],
    }
