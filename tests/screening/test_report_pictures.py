"""The screening report's pictures: the CONSORT-style flow (geometry, pure) and the page that
draws it with its text alternative, per the page's site filter; counts only, never by arm."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ecrf.accounts.roles import Role
from ecrf.screening.enrolment import cumulative_by_week, enrolment_chart, week_start, weeks_between
from ecrf.screening.flow import MAIN_X, MAIN_W, SIDE_X, STEPS, consort_flow, sum_rows
from tests.support import stages
from tests.support.screening import screen
from tests.support.times import athens

ROW = {"site": "A", "screened": 10, "rescreenings": 0, "pending": 1, "not_eligible": 3,
       "not_eligible_by_reason": {"age_under_18": 1, "neutropenia": 2}, "eligible": 6, "eligible_by_phenotype": {},
       "consented": 6, "eligible_consented": 5, "randomized": 4, "dosed": 3}


# --- geometry --------------------------------------------------------------------------------------

def test_the_main_column_runs_down_the_steps_joined_by_arrows():
    f = consort_flow(ROW)
    main = [b for b in f["boxes"] if not b.side]
    assert [b.key for b in main] == [k for k, _, _ in STEPS]
    assert [b.count for b in main] == [10, 6, 5, 4, 3]
    assert all(b.x == MAIN_X for b in main)
    spine = [a for a in f["arrows"] if a.x1 == a.x2]
    # Each arrow leaves a box's bottom and ends at the next box's top.
    assert [(a.y1, a.y2) for a in spine] == [(upper.bottom, lower.y) for upper, lower in zip(main, main[1:], strict=False)]
    assert all(lower.y > upper.bottom for upper, lower in zip(main, main[1:], strict=False))
    assert f["height"] > main[-1].bottom


def test_who_left_at_each_step_is_a_side_box_between_the_two_steps():
    f = consort_flow(ROW, label=lambda code: code.upper())
    main = {b.key: b for b in f["boxes"] if not b.side}
    side = {b.key: b for b in f["boxes"] if b.side}
    assert {k: b.count for k, b in side.items()} == {"not_eligible": 3, "pending": 1, "not_consented": 1,
                                                     "not_randomized": 1, "not_dosed": 1}
    # The reasons, most frequent first, labelled by the given function.
    assert side["not_eligible"].lines == ["Not eligible: 3", "NEUTROPENIA: 2", "AGE_UNDER_18: 1"]
    for before, after, key in (("screened", "eligible", "not_eligible"), ("screened", "eligible", "pending"),
                               ("eligible", "consented", "not_consented"), ("randomized", "dosed", "not_dosed")):
        box = side[key]
        assert main[before].bottom < box.y and box.bottom < main[after].y, key
        assert box.x >= MAIN_X + MAIN_W and box.x == SIDE_X
        # Its arrow runs from the spine to the box's left edge, inside the box's height.
        arrow = next(a for a in f["arrows"] if a.y1 == a.y2 and box.y <= a.y1 <= box.bottom)
        assert arrow.x1 == main[before].centre_x and arrow.x2 == box.x


def test_a_long_reason_is_shortened_in_the_box_and_kept_whole_in_its_title():
    long = "x" * 80
    box = next(b for b in consort_flow(ROW, label=lambda code: long)["boxes"] if b.key == "not_eligible")
    assert all(len(line) <= 48 for line in box.lines) and box.lines[1].endswith("…")
    assert box.full[1] == f"{long}: 2"


def test_rows_add_up_for_a_user_of_several_sites():
    total = sum_rows([ROW, {**ROW, "site": "B", "dosed": 1, "not_eligible_by_reason": {"neutropenia": 2}}])
    assert total["screened"] == 20 and total["dosed"] == 4
    assert total["not_eligible_by_reason"] == {"age_under_18": 1, "neutropenia": 4}


# --- the page --------------------------------------------------------------------------------------

@pytest.fixture
def trial(users, coordinator, site_a, site_b, make_user):
    """Site A: one dosed (MALS), one randomized without a dose (immunoparalysis), one consented,
    one not eligible (age 17); site B: one randomized (MALS), a week later."""
    lab = users[Role.LAB]
    stages.dosed(site_a, actor=coordinator, lab_user=lab, at=athens(2025, 3, 3, 10, 0))
    stages.randomized(site_a, actor=coordinator, lab_user=lab, at=athens(2025, 3, 4, 10, 0), phenotype="immunoparalysis")
    stages.consented(site_a, actor=coordinator, at=athens(2025, 3, 5, 10, 0))
    screen(coordinator, site_a, "A-17", age=17)
    coordinator_b = make_user(Role.COORDINATOR, sites=[site_b])
    stages.randomized(site_b, actor=coordinator_b, lab_user=lab, at=athens(2025, 3, 11, 10, 0))


def _flow_counts(html: str) -> dict[str, int]:
    svg = re.search(r'<svg role="img" aria-labelledby="flow-title".*?</svg>', html, re.S).group(0)
    return {k: int(n) for k, n in re.findall(r'data-box="(\w+)" data-count="(\d+)"', svg)}


@pytest.mark.django_db
def test_the_report_draws_the_flow_with_its_text_per_the_site_filter(client, users, trial):
    client.force_login(users[Role.DATA_MANAGER])
    html = client.get("/screening/report/").content.decode()
    # The consented participant without a phenotype yet is pending, not in "eligible and consented".
    assert _flow_counts(html) == {"screened": 5, "not_eligible": 1, "pending": 1, "eligible": 3, "not_consented": 0,
                                  "consented": 3, "not_randomized": 0, "randomized": 3, "not_dosed": 2, "dosed": 1}
    assert "Younger than the protocol" in html  # the reason's label, not its code
    # The table's reason columns are headed by the labels too: no code on the page.
    table = re.search(r'<table data-testid="screening-report">.*?</table>', html, re.S).group(0)
    assert "Not eligible: Younger than the protocol" in table and "age_under_18" not in html
    text = re.search(r'<ul data-testid="flow-text">(.*?)</ul>', html, re.S).group(1)
    assert "<li>Dosed: 1</li>" in text and "Randomized, no dose given yet: 2" in text
    site_b = client.get("/screening/report/?site=B").content.decode()
    assert _flow_counts(site_b) == {"screened": 1, "eligible": 1, "not_eligible": 0, "not_consented": 0,
                                    "consented": 1, "not_randomized": 0, "randomized": 1, "not_dosed": 1, "dosed": 0}
    assert 'option value="B" selected' in site_b
    # An unknown site falls back to every site in the report.
    assert _flow_counts(client.get("/screening/report/?site=Z").content.decode())["screened"] == 5


@pytest.mark.django_db
def test_a_site_user_sees_the_flow_of_its_own_site_only_and_never_an_arm(client, coordinator, trial):
    client.force_login(coordinator)
    html = client.get("/screening/report/?site=B").content.decode()
    assert _flow_counts(html)["screened"] == 4  # site B is not in a site-A coordinator's report
    assert 'name="site"' not in html  # one site: nothing to filter
    for word in ("placebo", "Placebo", "Active", "arm "):
        assert word not in html


# --- enrolment over time ---------------------------------------------------------------------------

def test_weeks_run_monday_to_monday_and_count_each_randomization_from_its_week_on():
    d = dt.date
    assert week_start(d(2025, 3, 9)) == d(2025, 3, 3) and week_start(d(2025, 3, 10)) == d(2025, 3, 10)
    weeks = weeks_between(d(2025, 3, 5), d(2025, 3, 24))
    assert weeks == [d(2025, 3, 3), d(2025, 3, 10), d(2025, 3, 17), d(2025, 3, 24)]
    # A Sunday counts in its own week; a Monday in the next.
    assert cumulative_by_week([d(2025, 3, 9), d(2025, 3, 10), d(2025, 3, 10), d(2025, 3, 24)], weeks) == [1, 3, 3, 4]


def test_each_series_is_a_rising_line_from_the_first_week_to_this_week():
    d = dt.date
    chart = enrolment_chart({"A": [d(2025, 3, 4), d(2025, 3, 12), d(2025, 3, 13)], "B": [d(2025, 3, 20)]},
                            today=d(2025, 3, 26))
    assert chart["weeks"][0] == d(2025, 3, 3) and chart["weeks"][-1] == d(2025, 3, 24)
    a, b = chart["lines"]
    assert (a.counts, b.counts) == ([1, 3, 3, 3], [0, 0, 1, 1]) and (a.total, b.total) == (3, 1)
    assert a.css != b.css
    points = [tuple(map(float, p.split(","))) for p in a.points.split()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs) and xs[0] == chart["plot"]["left"] and xs[-1] == chart["plot"]["right"]
    assert ys == sorted(ys, reverse=True)  # more participants, higher on the page
    assert ys[0] < chart["plot"]["bottom"] and min(ys) >= chart["plot"]["top"]
    assert float(b.points.split()[0].split(",")[1]) == chart["plot"]["bottom"]  # none yet: on the axis
    assert [r["counts"] for r in chart["table"]] == [[1, 0], [3, 0], [3, 1], [3, 1]]
    assert enrolment_chart({"A": []}, today=d(2025, 3, 26)) is None


def test_lines_ending_together_keep_their_labels_apart():
    d = dt.date
    chart = enrolment_chart({"A": [d(2025, 3, 4)], "B": [d(2025, 3, 5)], "C": [d(2025, 3, 6)]}, today=d(2025, 3, 6))
    ends = sorted(line.label_y for line in chart["lines"])
    assert all(b - a >= 13 for a, b in zip(ends, ends[1:], strict=False))
    assert ends[-1] <= chart["plot"]["bottom"]


@pytest.mark.django_db
def test_the_report_draws_enrolment_by_site_and_phenotype_with_tables(client, users, trial):
    client.force_login(users[Role.DATA_MANAGER])
    html = client.get("/screening/report/").content.decode()
    by_site = re.search(r'data-testid="enrolment-by-site".*?</svg>', html, re.S).group(0)
    assert re.findall(r'data-series="(\w+)" data-total="(\d+)"', by_site) == [("A", "2"), ("B", "1")]
    by_phenotype = re.search(r'data-testid="enrolment-by-phenotype".*?</svg>', html, re.S).group(0)
    assert re.findall(r'data-series="(\w+)" data-total="(\d+)"', by_phenotype) == [("Immunoparalysis", "1"), ("MALS", "2")]
    table = re.search(r'<table data-testid="enrolment-by-site-table">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r'<tr><th scope="row">([\d-]+)</th><td>(\d+)</td><td>(\d+)</td></tr>', table)
    assert rows[:2] == [("2025-03-03", "2", "0"), ("2025-03-10", "2", "1")]
    site_b = client.get("/screening/report/?site=B").content.decode()
    by_site_b = re.search(r'data-testid="enrolment-by-site".*?</svg>', site_b, re.S).group(0)
    assert re.findall(r'data-series="(\w+)"', by_site_b) == ["B"]
