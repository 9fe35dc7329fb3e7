"""Participant-page panels: the SOFA trajectory (a small server-rendered SVG) and the SOFA
endpoints, each shown only to the roles allowed to see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrf.accounts.roles import user_roles
from ecrf.crf.panels import Panel, register_panel
from ecrf.sofa.selectors import (
    ENDPOINT_READ_ROLES,
    TRAJECTORY_READ_ROLES,
    endpoint_of,
    sofa_days_of,
)
from ecrf.study.protocol import DEFAULT_PROTOCOL

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 10, 26
MAX_SCORE = DEFAULT_PROTOCOL.death_sofa_score


@dataclass(frozen=True)
class ChartPoint:
    day: int
    score: int
    x: float
    y: float
    source: str  # observed | locf | death
    form_id: int | None = None


def _x(day: int, days: int) -> float:
    return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - 1) / max(days - 1, 1), 1)


def _y(score: int) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - score / MAX_SCORE), 1)


def trajectory_chart(days: list[Any], filled_series: list[dict[str, Any]] | None,
                     sofa_days: int = DEFAULT_PROTOCOL.sofa_days) -> dict[str, Any]:
    """Geometry of the chart: observed days as dots joined by a line; days filled for the
    endpoint (carried forward, or 24 from the day of death) as hollow markers."""
    observed = {d.day: d for d in days if d.total is not None}
    points = [ChartPoint(d.day, d.total, _x(d.day, sofa_days), _y(d.total), "observed", d.pk)
              for d in sorted(observed.values(), key=lambda d: d.day)]
    filled = [ChartPoint(e["day"], e["score"], _x(e["day"], sofa_days), _y(e["score"]), e["source"])
              for e in (filled_series or [])
              if e["day"] <= sofa_days and e["score"] is not None and e["source"] in ("locf", "death")]
    return {
        "width": WIDTH, "height": HEIGHT,
        "points": points, "filled": filled,
        "line": " ".join(f"{p.x},{p.y}" for p in points),
        "x_ticks": [{"day": d, "x": _x(d, sofa_days)} for d in (1, 5, 9, 15) if d <= sofa_days],
        "y_ticks": [{"score": s, "y": _y(s)} for s in (0, 6, 12, 18, 24)],
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "baseline_y": _y(observed[1].total) if 1 in observed else None,
    }


@register_panel
def sofa_trajectory_panel(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & TRAJECTORY_READ_ROLES:
        return None
    days = sofa_days_of(participant)
    endpoint = endpoint_of(user, participant) if user_roles(user) & ENDPOINT_READ_ROLES else None
    chart = trajectory_chart(days, endpoint.filled_series if endpoint else None)
    return Panel(title="SOFA trajectory", template="sofa/panel_trajectory.html", order=40,
                 context={"chart": chart, "days": days, "participant": participant})


@register_panel
def sofa_endpoints_panel(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & ENDPOINT_READ_ROLES:
        return None
    return Panel(title="SOFA endpoints", template="sofa/panel_endpoints.html", order=41,
                 context={"endpoint": endpoint_of(user, participant), "protocol": DEFAULT_PROTOCOL})
