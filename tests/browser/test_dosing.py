"""Browser: a coordinator records a dosing day and reads the casebook grid."""

from __future__ import annotations

import pytest
from django.utils import timezone


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_record_a_dosing_day_and_read_the_casebook(page, login, coordinator, make_randomized, site_a):
    randomized_at = timezone.now().replace(second=0, microsecond=0) - timezone.timedelta(hours=1)
    participant = make_randomized(randomized_at)
    login(coordinator)
    page.goto(f"/participants/{participant.pk}/casebook/")
    page.get_by_role("link", name="Day 1", exact=True).click()
    assert page.get_by_role("heading", name="IV study drug dose 1").first.is_visible()
    slot = page.get_by_test_id("slot-iv-1")
    slot.get_by_label("Given", exact=True).check()
    slot.get_by_label("Started at the due time").check()
    slot.get_by_label("Duration (minutes)").fill("30")
    slot.get_by_label("Volume given (mL)").fill("20")
    slot.get_by_role("button", name="Record IV study drug dose 1").click()
    assert page.get_by_test_id("state-iv-1").inner_text() == "Entered"
    sc = page.get_by_test_id("slot-sc-1")
    sc.get_by_role("radio", name="Not given").check()
    sc.get_by_label("Reason not given").select_option("preparation_unavailable")
    sc.get_by_role("button", name="Record SC study drug dose 1").click()
    assert page.get_by_test_id("state-sc-1").inner_text() == "Entered"
    assert "anakinra" not in page.content().lower() and "interferon" not in page.content().lower()
    page.get_by_role("link", name="Casebook grid").click()
    grid = page.get_by_test_id("casebook-grid")
    assert grid.is_visible()
    # A day's doses are one cell ("entered/expected"); it opens to each dose's state.
    iv_day_1 = page.locator('tr[data-row="dosing.administration:iv"] details').first
    assert "\n1/" in iv_day_1.locator("summary").inner_text()  # one dose entered
    iv_day_1.locator("summary").click()
    assert page.get_by_test_id("cell-dosing.administration:iv-1").first.inner_text() == "Entered"
    assert "Vital status" in grid.inner_text() and "Day 90" in grid.inner_text()
    # A missing form's cell opens a new form with its day chosen.
    page.get_by_test_id("cell-outcomes.vital_status-28").get_by_role("link").click()
    assert page.locator('[name="f-day"]').input_value() == "28"
