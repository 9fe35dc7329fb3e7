"""Participant-page panels: SOFA by day (a small server-rendered SVG: the six organ subscores
stacked, the total as a line) and the SOFA endpoints, each shown only to the roles allowed to
see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from ecrf.accounts.roles import user_roles
from ecrf.crf.panels import Panel, register_panel
from ecrf.sofa.scoring import COMPONENTS
from ecrf.sofa.selectors import (
    ENDPOINT_READ_ROLES,
    TRAJECTORY_READ_ROLES,
    endpoint_of,
    sofa_days_of,
)
from ecrf.sofa.views import COMPONENT_LABELS
from ecrf.study.protocol import DEFAULT_PROTOCOL

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 10, 26
MAX_SCORE = DEFAULT_PROTOCOL.death_sofa_score
BAR_FRACTION = 0.6  # of a day's slot


@dataclass(frozen=True)
class ChartPoint:
    day: int
    score: int
    x: float
    y: float
    source: str  # observed | locf | death
    form_id: int | None = None


@dataclass(frozen=True)
class Segment:
    """One organ's part of a day's stacked bar: from y (top) down by height."""
    component: str
    label: str
    score: int
    y: float
    height: float


@dataclass(frozen=True)
class DayBar:
    day: int
    x: float  # left edge
    width: float
    segments: list[Segment]


PLOT_WIDTH = WIDTH - LEFT - RIGHT


def _x(day: int, days: int) -> float:
    """The centre of the day's slot: days 1..N share the plot width equally."""
    slot = PLOT_WIDTH / max(days, 1)
    return round(LEFT + slot * (day - 0.5), 1)


def _scale(score: int) -> float:
    return (HEIGHT - TOP - BOTTOM) * score / MAX_SCORE


def _y(score: int) -> float:
    return round(HEIGHT - BOTTOM - _scale(score), 1)


def _bar(day: Any, sofa_days: int) -> DayBar | None:
    """The day's stacked subscores, bottom up in the SOFA table's order, from the stored derived
    subscores (never re-scored). None when a subscore is not stored (nothing to stack)."""
    scores = [(c, getattr(day, c, None)) for c in COMPONENTS]
    if any(s is None for _, s in scores):
        return None
    slot = PLOT_WIDTH / max(sofa_days, 1)
    width = round(slot * BAR_FRACTION, 1)
    base = float(HEIGHT - BOTTOM)
    segments = []
    for component, score in scores:
        if score:
            height = round(_scale(score), 1)
            segments.append(Segment(component, str(COMPONENT_LABELS[component]), score, round(base - height, 1), height))
            base -= height
    return DayBar(day.day, round(_x(day.day, sofa_days) - width / 2, 1), width, segments)


def trajectory_chart(days: list[Any], filled_series: list[dict[str, Any]] | None,
                     sofa_days: int = DEFAULT_PROTOCOL.sofa_days) -> dict[str, Any]:
    """Geometry of the chart: each observed day's six subscores stacked into a bar, the totals
    as dots joined by a line; days filled for the endpoint (carried forward, or 24 from the day
    of death) as hollow markers."""
    observed = {d.day: d for d in days if d.total is not None and d.day <= sofa_days}
    ordered = sorted(observed.values(), key=lambda d: d.day)
    points = [ChartPoint(d.day, d.total, _x(d.day, sofa_days), _y(d.total), "observed", d.pk) for d in ordered]
    filled = [ChartPoint(e["day"], e["score"], _x(e["day"], sofa_days), _y(e["score"]), e["source"])
              for e in (filled_series or [])
              if e["day"] <= sofa_days and e["score"] is not None and e["source"] in ("locf", "death")]
    return {
        "width": WIDTH, "height": HEIGHT,
        "points": points, "filled": filled,
        "bars": [b for d in ordered if (b := _bar(d, sofa_days)) is not None],
        "line": " ".join(f"{p.x},{p.y}" for p in points),
        "x_ticks": [{"day": d, "x": _x(d, sofa_days)} for d in (1, 5, 9, 15) if d <= sofa_days],
        "y_ticks": [{"score": s, "y": _y(s)} for s in (0, 6, 12, 18, 24)],
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "legend": [{"component": c, "label": COMPONENT_LABELS[c]} for c in COMPONENTS],
        "baseline_y": _y(observed[1].total) if 1 in observed else None,
    }


def sofa_table(days: list[Any], filled_series: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The chart's text alternative: one row per entered day (its subscores and total, a link
    to the form) and per day filled for the endpoint (its score and how it was filled)."""
    rows: dict[int, dict[str, Any]] = {}
    for d in days:
        rows[d.day] = {"day": d.day, "form_id": d.pk, "scores": [getattr(d, c, None) for c in COMPONENTS],
                       "total": d.total, "source": "observed"}
    for e in filled_series or ():
        if e["day"] not in rows and e["source"] in ("locf", "death") and e["score"] is not None:
            rows[e["day"]] = {"day": e["day"], "form_id": None, "scores": [], "total": e["score"],
                              "source": e["source"], "carried_from_day": e.get("carried_from_day")}
    return [rows[k] for k in sorted(rows)]


@register_panel
def sofa_trajectory_panel(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & TRAJECTORY_READ_ROLES:
        return None
    days = sofa_days_of(participant)
    endpoint = endpoint_of(user, participant) if user_roles(user) & ENDPOINT_READ_ROLES else None
    series = endpoint.filled_series if endpoint else None
    chart = trajectory_chart(days, series)
    return Panel(title=_("SOFA by day"), template="sofa/panel_trajectory.html", order=40,
                 context={"chart": chart, "days": days, "table": sofa_table(days, series),
                          "components": [COMPONENT_LABELS[c] for c in COMPONENTS], "participant": participant})


@register_panel
def sofa_endpoints_panel(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & ENDPOINT_READ_ROLES:
        return None
    return Panel(title=_("SOFA endpoints"), template="sofa/panel_endpoints.html", order=41,
                 context={"endpoint": endpoint_of(user, participant), "protocol": DEFAULT_PROTOCOL})
