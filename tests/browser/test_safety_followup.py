"""Browser: a safety officer asks the site for follow-up on a submitted SAE; the site sees the
request and the follow-up report to submit, and its submission meets the follow-up clock."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from safety.models import SAEReport
from safety.services import sae_report_submit
from tests.safety import conftest as safety_fixtures
from tests.safety.conftest import SERIOUS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The safety app's fixtures, used by these browser tests.
make_ae = safety_fixtures.make_ae
meddra = safety_fixtures.meddra


def test_safety_officer_asks_for_follow_up_and_the_site_submits_it(page, login, users, make_ae):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    sae_report_submit(actor=users[Role.INVESTIGATOR], report=report, version=report.version,
                      submitted_at=ae.aware_at + dt.timedelta(hours=3), recipient="Sponsor", reference="SAE-1")
    login(users[Role.SAFETY_OFFICER])
    page.goto(f"/safety/ae/{ae.pk}/")
    page.get_by_role("button", name="Ask the site for follow-up").click()
    assert "This field is required" in page.content()  # an empty question is refused next to the field
    page.get_by_label("What should the site follow up on?").fill("Please send the discharge letter.")
    page.get_by_role("button", name="Ask the site for follow-up").click()
    assert "Please send the discharge letter." in page.get_by_test_id("followup-request").inner_text()
    assert "SAE follow-up report" in page.locator("table.clocks").inner_text()
    page.get_by_role("button", name="Log out").click()

    login(users[Role.COORDINATOR])
    page.goto(f"/safety/ae/{ae.pk}/")
    assert "Please send the discharge letter." in page.content()
    followup = page.get_by_test_id("report-1")
    followup.get_by_label("Sent to").fill("Sponsor safety desk")
    followup.get_by_label("Reference").fill("SAE-1-FU1")
    followup.get_by_role("button", name="Submit report").click()
    assert "SAE-1-FU1" in page.get_by_test_id("report-1").inner_text()
    row = page.locator("table.clocks tr").filter(has_text="SAE follow-up report")
    assert "Met" in row.inner_text()
