"""Browser: every role logs in and sees its home page; site staff enter and correct a form."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_role_logs_in_and_sees_its_home_page(page, login, users):
    for role, user in users.items():
        login(user)
        assert page.get_by_role("heading", name="What to do next").is_visible(), role
        assert user.username in page.get_by_test_id("who").inner_text()
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/accounts/login/")


def test_wrong_password_shows_error_next_to_form(page, login, users):
    login(users[Role.COORDINATOR], password="wrong-password")
    assert "not correct" in page.get_by_role("alert").inner_text()


def test_coordinator_enters_submits_and_corrects_a_form(page, login, coordinator, participant_a):
    login(coordinator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    page.get_by_role("link", name=participant_a.screening_number).click()
    page.get_by_role("link", name="New Vital signs (test form)").click()
    page.get_by_label("measured on").fill("2026-11-20")
    page.get_by_label("temperature (°C)").fill("39.1")
    page.get_by_label("heart rate (/min)").fill("120")
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_test_id("status").inner_text() == "Submitted"
    # A submitted form opens read-only; its Edit action opens the correction.
    assert page.get_by_label("heart rate (/min)").count() == 0
    page.get_by_role("link", name="Edit (a correction asks for its reason)").click()
    # A change after submission without a reason is refused next to the reason field.
    page.get_by_label("heart rate (/min)").fill("115")
    page.get_by_role("button", name="Save draft").click()
    assert "reason" in page.locator(".has-error").first.inner_text().lower()
    page.get_by_label("heart rate (/min)").fill("115")
    page.get_by_label("Reason for change").fill("Monitor found transcription error")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_test_id("version").inner_text() == "2"
    page.get_by_role("link", name="History").click()
    row = page.get_by_role("row").filter(has_text="Monitor found transcription error").filter(has_text="Heart rate (/min)")
    assert "120" in row.inner_text() and "115" in row.inner_text()
