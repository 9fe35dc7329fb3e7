"""Browser: a coordinator enters a SOFA day and sees its computed score; the participant page
shows the SOFA trajectory and the endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks():
    from ecrf.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_coordinator_enters_a_sofa_day_and_sees_its_score(page, login, coordinator, make_randomized, eager_tasks):
    participant = make_randomized(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    login(coordinator)
    page.goto(f"/participants/{participant.pk}/")
    page.get_by_role("link", name="New SOFA day").click()
    page.get_by_label("study day").fill("1")
    page.get_by_label("PaO2", exact=True).fill("60")
    page.get_by_label("PaO2 unit").select_option("mmHg")
    page.get_by_label("FiO2 (fraction)").fill("0.5")  # P/F 120
    page.get_by_label("respiratory support").select_option("invasive")  # -> 3
    page.get_by_label("platelets (x10^3/µL)").fill("45")  # -> 3
    # The server's preview follows the typing, before anything is saved (partial: the rest unmeasured).
    preview = page.get_by_test_id("entry-preview")
    expect(preview.get_by_test_id("preview-respiration")).to_have_text("3")
    expect(preview.get_by_test_id("preview-coagulation")).to_have_text("3")
    expect(preview).to_contain_text("not saved")
    page.get_by_label("Bilirubin", exact=True).fill("30")
    page.get_by_label("bilirubin unit").select_option("umol/L")  # [20, 33) -> 1
    page.get_by_label("MAP (mmHg)").fill("72")
    page.get_by_label("norepinephrine (µg/kg/min)").fill("0.2")  # -> 4
    page.get_by_label("GCS (3-15)").fill("15")  # -> 0
    page.get_by_label("Creatinine", exact=True).fill("1.0")
    page.get_by_label("creatinine unit").select_option("mg/dL")
    page.get_by_label("urine output (mL/24 h)").fill("450")  # -> 3
    expect(preview.get_by_test_id("preview-renal")).to_have_text("3")
    expect(preview.get_by_test_id("preview-total")).to_have_text("14")
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_test_id("status").inner_text() == "Submitted"
    assert page.get_by_test_id("sofa-respiration").inner_text() == "3"
    assert page.get_by_test_id("sofa-renal").inner_text() == "3"
    assert page.get_by_test_id("sofa-total").inner_text() == "14"
    # A GCS outside 3-15 is refused next to the field, nothing changes.
    page.get_by_role("link", name="Edit (a correction asks for its reason)").click()
    page.get_by_label("GCS (3-15)").fill("1")
    page.get_by_label("Reason for change").fill("re-check")
    page.get_by_role("button", name="Save draft").click()
    message = page.locator(".has-error").first.inner_text()
    assert "3 to 15" in message or "greater than or equal to 3" in message
    # The error summary at the top links to the field's input.
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    link = summary.get_by_role("link", name="GCS (3-15)")
    assert link.get_attribute("href") == "#" + page.get_by_label("GCS (3-15)").get_attribute("id")
    assert page.get_by_test_id("version").inner_text() == "1"
    # The participant page: the trajectory chart and the derived endpoints.
    page.goto(f"/participants/{participant.pk}/")
    chart = page.get_by_test_id("sofa-trajectory")
    assert chart.locator("circle[data-day='1']").get_attribute("data-score") == "14"
    assert page.get_by_test_id("endpoint-evaluable").inner_text().startswith("yes")
    assert page.get_by_test_id("endpoint-mitt").inner_text().startswith("no")  # no dose given yet
