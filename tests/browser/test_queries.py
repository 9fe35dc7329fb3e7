"""Browser: the main query path. A data manager raises a query on a field from the form page,
releases it and assigns it to the site's coordinator; the coordinator is told in the inbox, finds
the query beside the field and answers it; the data manager closes it from the inbox."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.notifications.tasks import deliver_pending
from ecrf.queries.models import Query
from tests.testapp.specs import VITALS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def test_raise_release_answer_close(page, login, users, coordinator, participant_a):
    form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 20), "temperature": "37.2", "heart_rate": 171})
    dm = users[Role.DATA_MANAGER]
    login(dm)
    page.goto(f"/forms/{VITALS.slug}/{form.pk}/")
    page.get_by_role("link", name="Raise a query on this form").click()
    page.get_by_label("Field").select_option(label="heart rate (/min)")
    page.get_by_label("Question for the site").fill("Heart rate 171/min at rest: please confirm.")
    page.get_by_role("button", name="Raise the draft query").click()
    assert "draft" in page.get_by_test_id("query-state").inner_text()
    page.get_by_role("button", name="Release to the site").click()
    assert page.get_by_test_id("query-state").inner_text() == "Open"
    who = coordinator.get_full_name() or coordinator.get_username()
    page.get_by_label("Who answers this query").select_option(label=who)
    page.get_by_role("button", name="Assign").click()
    assert page.get_by_test_id("query-assignee").inner_text() == who
    assert Query.objects.get().assignee == coordinator
    _logout(page)

    deliver_pending()  # what the worker runs after the commit (no worker serves the browser tests)
    login(coordinator)
    page.goto("/inbox/")
    told = page.locator("ul.inbox li", has_text=f"Data query on participant {participant_a.screening_number}")
    assert "Heart rate 171/min at rest" in told.first.inner_text()
    page.goto(f"/forms/{VITALS.slug}/{form.pk}/")
    note = page.get_by_test_id("field-notes").get_by_role("link", name="Heart rate 171/min at rest")
    note.click()
    page.get_by_label("Text (answer, message or reason)").fill("Confirmed on the monitor printout.")
    page.get_by_role("button", name="Answer").click()
    assert page.get_by_test_id("query-state").inner_text() == "Answered"
    _logout(page)

    login(dm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queries").click()
    page.get_by_label("State").select_option(label="Answered")
    page.get_by_role("button", name="Filter").click()
    page.get_by_test_id("queries").get_by_role("link", name=f"#{Query.objects.get().pk}").click()
    assert "Confirmed on the monitor printout." in page.get_by_test_id("thread").inner_text()
    page.get_by_role("button", name="Close").click()  # no reason: refused, nothing changes
    assert "closing needs a message" in page.get_by_test_id("error").inner_text()
    page.get_by_label("Text (answer, message or reason)").fill("Thank you.")
    page.get_by_role("button", name="Close").click()
    assert page.get_by_test_id("query-state").inner_text() == "Closed"
    assert Query.objects.get().state == "closed"
