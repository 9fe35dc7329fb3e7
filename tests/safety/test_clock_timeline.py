"""The clock board as a timeline: the geometry of the bars against time (pure), and the board
page drawing it above the table it keeps as the alternative."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from safety.clock_timeline import LEFT, MAX_ROWS, RIGHT, WIDTH, ClockSpan, clock_timeline
from tests.safety.conftest import SERIOUS

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def span(key, start_h, due_h, state="running"):
    return ClockSpan(key, key, state, T0 + dt.timedelta(hours=start_h), T0 + dt.timedelta(hours=due_h))


def test_bars_run_from_start_to_deadline_on_one_time_axis_with_now_marked():
    now = T0 + dt.timedelta(hours=30)
    t = clock_timeline([span("late", 0, 24, "overdue"), span("soon", 12, 36, "due_soon"), span("new", 28, 52)], now=now)
    late, soon, new = t["bars"]
    hours = 52 * 1.06  # the axis: 0 h to 52 h plus 3 % each side
    per_hour = (WIDTH - LEFT - RIGHT) / hours

    def at(h):
        return LEFT + per_hour * (h + 52 * 0.03)

    assert late.x == pytest.approx(at(0), abs=0.2) and late.x + late.width == pytest.approx(at(24), abs=0.3)
    assert soon.x == pytest.approx(at(12), abs=0.2) and new.x + new.width == pytest.approx(at(52), abs=0.3)
    assert t["now_x"] == pytest.approx(at(30), abs=0.2)
    assert LEFT < late.x and new.x + new.width < WIDTH - RIGHT
    # Equal durations, equal lengths; one row each, top to bottom in the board's order.
    assert late.width == pytest.approx(soon.width, abs=0.2) == pytest.approx(new.width, abs=0.2)
    assert late.y < soon.y < new.y and t["height"] > new.y
    # Only the overdue clock runs on past its deadline, up to now.
    assert (late.overrun_x, late.overrun_x + late.overrun_width) == pytest.approx((late.x + late.width, t["now_x"]), abs=0.3)
    assert soon.overrun_x is None and new.overrun_x is None
    ticks = [k["x"] for k in t["ticks"]]
    assert ticks == sorted(ticks) and LEFT < ticks[0] and ticks[-1] < WIDTH - RIGHT


def test_now_after_every_deadline_stretches_the_axis_to_now():
    now = T0 + dt.timedelta(hours=100)
    t = clock_timeline([span("late", 0, 24, "overdue")], now=now)
    assert t["now_x"] > t["bars"][0].x + t["bars"][0].width and t["now_x"] < WIDTH - RIGHT


def test_no_clock_no_picture_and_a_long_board_is_cut_with_a_count():
    assert clock_timeline([], now=T0) is None
    t = clock_timeline([span(f"c{i}", 0, 24) for i in range(MAX_ROWS + 3)], now=T0)
    assert len(t["bars"]) == MAX_ROWS and t["more"] == 3


@pytest.mark.django_db
def test_the_board_draws_each_open_clock_above_its_table(client, users, make_ae):
    overdue = make_ae(**SERIOUS, aware_at=timezone.now() - dt.timedelta(hours=30))
    running = make_ae(**SERIOUS, aware_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(users[Role.SAFETY_OFFICER])
    html = client.get("/safety/clocks/").content.decode()
    svg = re.search(r'<svg role="img" aria-labelledby="clock-timeline-title".*?</svg>', html, re.S).group(0)
    bars = dict(re.findall(r'<g data-clock="([\w-]+)" data-state="(\w+)">', svg))
    table = re.findall(r'<tr class="clock state-\w+" data-testid="([\w-]+)"', html)
    assert bars and set(bars) == set(table)  # the same clocks as the table, which stays
    assert html.index("clock-timeline-title") < html.index('<table class="clocks">')
    states = {state for state in bars.values()}
    assert "overdue" in states and "running" in states
    overdue_group = re.search(r'data-state="overdue">(.*?)</g>', svg, re.S).group(1)
    running_group = re.search(r'data-state="running">(.*?)</g>', svg, re.S).group(1)
    assert f"AE #{overdue.pk}" in overdue_group and 'data-testid="overrun"' in overdue_group
    assert f"AE #{running.pk}" in running_group and 'data-testid="overrun"' not in running_group
    assert 'data-testid="now-line"' in svg
    for word in ("placebo", "Placebo", "Active"):
        assert word not in html


def test_the_axis_says_dates_over_days_and_hours_over_a_day():
    assert clock_timeline([span("a", 0, 24)], now=T0)["tick_format"] == "m-d H:i"
    assert clock_timeline([span("a", 0, 24 * 7)], now=T0)["tick_format"] == "Y-m-d"
    # Three and a half days over five ticks: the ticks are hours apart, so two would read the same date.
    short = clock_timeline([span("a", 0, 84)], now=T0)
    assert short["tick_format"] == "m-d H:i"
    assert len({t["at"].strftime("%m-%d %H:%M") for t in short["ticks"]}) == len(short["ticks"])
