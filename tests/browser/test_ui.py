"""Browser: a coordinator finds the casebook through the menu, the grid fits a 1024 px screen
without scrolling the page sideways, and the main pages have no serious or critical
accessibility violation (axe-core, served to the tests only: tests/browser/vendor/)."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION
from tests.browser.conftest import AXE, RUN_AXE
from tests.support.times import athens, iv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_menu_leads_to_a_casebook_that_fits_1024_px_and_the_main_pages_pass_axe(page, login, coordinator, randomized):
    first = athens(2025, 3, 10, 10, 30)
    for n in (1, 2, 3):
        form_create(actor=coordinator, spec=ADMINISTRATION, participant=randomized, submit=True,
                    data=iv(first + dt.timedelta(hours=8 * (n - 1)), n))
    page.context.add_init_script(path=str(AXE))
    page.set_viewport_size({"width": 1024, "height": 768})
    login(coordinator)
    visited = {"home": page.url}
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    assert page.get_by_role("navigation", name="Main").locator("[aria-current=page]").inner_text() == "Participants"
    visited["participants"] = page.url
    page.get_by_role("link", name=randomized.screening_number).first.click()
    visited["participant"] = page.url
    page.get_by_role("link", name="Open the casebook grid").click()
    grid = page.get_by_test_id("casebook-grid")
    assert grid.is_visible()
    # The whole grid (days 1 to 90 and end of study) is on the screen: no sideways page scroll.
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    box = grid.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1024
    # A day's doses open to each dose, without leaving the page.
    day_1 = page.locator('tr[data-row="dosing.administration:iv"] details').first
    day_1.locator("summary").click()
    assert page.get_by_test_id("cell-dosing.administration:iv-1").first.inner_text() == "Entered"
    visited["casebook"] = page.url
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Screening log").click()
    visited["screening log"] = page.url
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Adverse events").click()
    visited["adverse events"] = page.url

    problems = {}
    for name, url in visited.items():
        page.goto(url)
        found = page.evaluate(RUN_AXE)
        if found:
            problems[name] = found
    assert problems == {}
