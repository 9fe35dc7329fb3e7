"""SOFA by day on the participant page: the geometry of the stacked subscores and the total
line (pure), and the panel as a page shows it, with its table alternative."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from ecrf.crf.services import form_create
from ecrf.sofa.panels import HEIGHT, BOTTOM, _scale, _x, _y, sofa_table, trajectory_chart
from ecrf.sofa.scoring import COMPONENTS
from ecrf.sofa.specs import SOFA_DAY
from tests.sofa.conftest import FULL_DAY, FULL_DAY_SUBSCORES


def day(n: int, pk: int | None = None, **scores):
    total = sum(scores.values()) if scores and all(v is not None for v in scores.values()) else None
    return SimpleNamespace(day=n, pk=pk or n, total=scores.pop("total", total) if "total" in scores else total,
                           **{c: scores.get(c) for c in COMPONENTS})


# --- geometry --------------------------------------------------------------------------------------

def test_each_days_segments_stack_from_the_axis_to_the_total_in_the_sofa_tables_order():
    chart = trajectory_chart([day(1, **FULL_DAY_SUBSCORES), day(2, respiration=4, coagulation=0, liver=0,
                                                               cardiovascular=4, cns=0, renal=1)], None)
    first, second = chart["bars"]
    # Bottom up: respiration first; zero subscores draw nothing.
    assert [s.component for s in first.segments] == list(COMPONENTS)
    assert [s.component for s in second.segments] == ["respiration", "cardiovascular", "renal"]
    for bar, total in ((first, 12), (second, 9)):
        # The segments touch: each starts where the one below ends, from the axis up to the total.
        assert bar.segments[0].y + bar.segments[0].height == pytest.approx(HEIGHT - BOTTOM, abs=0.2)
        for below, above in zip(bar.segments, bar.segments[1:], strict=False):
            assert above.y + above.height == pytest.approx(below.y, abs=0.2)
        assert sum(s.height for s in bar.segments) == pytest.approx(_scale(total), abs=0.3)
        assert bar.segments[-1].y == pytest.approx(_y(total), abs=0.3)
    assert [s.score for s in first.segments] == [FULL_DAY_SUBSCORES[c] for c in COMPONENTS]
    # The total line passes through each bar's top, at the bar's centre.
    assert chart["line"] == f"{_x(1, 15)},{_y(12)} {_x(2, 15)},{_y(9)}"
    assert first.x + first.width / 2 == pytest.approx(_x(1, 15), abs=0.1)


def test_days_sit_in_order_inside_the_plot_and_scores_rise_upwards():
    xs = [_x(d, 15) for d in range(1, 16)]
    assert xs == sorted(xs) and len(set(xs)) == 15
    chart = trajectory_chart([], None)
    assert chart["plot"]["left"] < xs[0] and xs[-1] < chart["plot"]["right"]
    assert _y(0) == chart["plot"]["bottom"] and _y(24) == chart["plot"]["top"]


def test_a_day_without_stored_subscores_has_its_total_but_no_bar():
    chart = trajectory_chart([day(1, total=7)], None)
    assert chart["bars"] == [] and [p.score for p in chart["points"]] == [7]


def test_filled_days_are_markers_and_table_rows_saying_how_they_were_filled():
    days = [day(1, **FULL_DAY_SUBSCORES)]
    series = [{"day": 1, "score": 12, "source": "observed"}, {"day": 2, "score": 12, "source": "locf", "carried_from_day": 1},
              {"day": 3, "score": 24, "source": "death"}]
    chart = trajectory_chart(days, series)
    assert [(p.day, p.source) for p in chart["filled"]] == [(2, "locf"), (3, "death")]
    rows = sofa_table(days, series)
    assert [(r["day"], r["source"], r["total"]) for r in rows] == [(1, "observed", 12), (2, "locf", 12), (3, "death", 24)]
    assert rows[0]["scores"] == [FULL_DAY_SUBSCORES[c] for c in COMPONENTS]


# --- the page --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_participant_page_stacks_the_stored_subscores_and_tables_them(client, coordinator, randomized_a, inline_tasks):
    for n, values in ((1, FULL_DAY), (3, {**FULL_DAY, "gcs": 15})):  # totals 12 and 11; day 2 carried forward
        inline_tasks(form_create, actor=coordinator, spec=SOFA_DAY, participant=randomized_a, submit=True,
                     data={"day": n, **values})
    client.force_login(coordinator)
    html = client.get(f"/participants/{randomized_a.pk}/").content.decode()
    svg = re.search(r'<svg role="img" aria-labelledby="sofa-chart-title".*?</svg>', html, re.S).group(0)
    assert "organ subscores stacked" in svg
    bar_1 = re.search(r'data-testid="sofa-bar" data-day="1">(.*?)</g>', svg, re.S).group(1)
    assert re.findall(r'data-component="(\w+)" data-score="(\d)"', bar_1) == [
        (c, str(FULL_DAY_SUBSCORES[c])) for c in COMPONENTS]
    assert 'data-day="3" data-score="11"' in svg and 'data-filled-day="2"' in svg
    # The legend uses the bars' own classes, one swatch per organ system.
    legend = re.search(r'data-testid="sofa-legend">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r'class="organ organ-(\w+)"', legend) == list(COMPONENTS)
    # The table alternative: day x subscores + total, the filled day said in words.
    table = re.search(r'<table data-testid="sofa-table">(.*?)</table>', html, re.S).group(1)
    # (days 4-15 are carried forward from day 3 for the endpoint: the days are long past)
    assert re.findall(r'<tr data-day="(\d+)">', table) == [str(n) for n in range(1, 16)]
    assert table.count("carried forward from day 1") == 1 and table.count("carried forward from day 3") == 12
    assert re.findall(r'data-testid="sofa-table-total">(\d+)<', table) == ["12", "12"] + ["11"] * 13
    for word in ("placebo", "Placebo", "active arm", "Active"):
        assert word not in html
    # The endpoints as a clinician reads them, two decimals at most (the API keeps full precision):
    # day 1 is 12, days 2-9 are 12, 11 x 7 (mean 11.125), days 2-15 12, 11 x 13, days 1-9 101 / 9.
    endpoints = re.search(r'<dl class="facts" data-testid="sofa-endpoints">(.*?)</dl>', html, re.S).group(1)
    assert re.search(r'data-testid="endpoint-primary">0\.88<', endpoints)
    assert "<dd>0.93</dd>" in endpoints and "<dd>11.22</dd>" in endpoints
    assert not re.search(r"\d\.\d{3}", endpoints)
