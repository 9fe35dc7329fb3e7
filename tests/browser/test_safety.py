"""Browser: a site reports an SAE and a safety officer finds its clock on the board; the
expectedness and unblinding steps; the adjudication queue and form."""

from __future__ import annotations

import re

import pytest

from ecrf.accounts.roles import Role
from safety.models import Adjudication, ExpeditedAssessment
from safety.services import adjudication_review_submit
from tests.safety import conftest as safety_fixtures
from tests.safety.conftest import SERIOUS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The safety app's fixtures, used by these browser tests.
make_ae = safety_fixtures.make_ae
meddra = safety_fixtures.meddra
randomize = safety_fixtures.randomize


def test_site_reports_an_sae_and_the_safety_officer_finds_its_clock(page, login, users, participant_a, meddra):
    login(users[Role.INVESTIGATOR])
    page.goto(f"/participants/{participant_a.pk}/forms/adverse-events/new/")
    page.get_by_label("verbatim term").fill("Black stools")
    page.get_by_label("MedDRA lowest level term code").fill("94000004")
    page.get_by_label("onset date").fill("2026-11-20")
    page.get_by_label("CTCAE grade").select_option("3")
    page.locator("#id_f-serious").check()
    page.get_by_label("requires or prolongs hospitalisation").check()
    page.get_by_label("outcome").select_option("recovering")
    page.get_by_label("causality to the IV study drug").select_option("possible")
    page.get_by_label("investigator became aware at").fill("2026-11-27 08:00")
    page.get_by_role("button", name="Submit").click()
    # Causality to the SC drug is missing: refused next to the field, nothing stored.
    assert "required for a serious event" in page.locator(".has-error").first.inner_text()
    page.get_by_label("causality to the SC study drug").select_option("unlikely")
    page.get_by_role("button", name="Submit").click()
    # A serious AE's save leads straight to its page: the SAE report and the 24-hour clock.
    page.wait_for_url("**/safety/ae/*/")
    form_id = page.url.rstrip("/").split("/")[-1]
    assert "Gastrointestinal haemorrhage" in page.content()
    assert "SAE initial report (24 h)" in page.locator("table.clocks").inner_text()
    page.get_by_role("button", name="Log out").click()

    login(users[Role.SAFETY_OFFICER])
    page.goto("/safety/clocks/")
    row = page.locator("tr.clock").filter(has_text=f"AE #{form_id}")
    assert "SAE initial report (24 h)" in row.inner_text()
    # Days, hours and minutes, as a person reads them, never raw seconds.
    text = row.locator(".countdown").inner_text()
    assert re.fullmatch(r"(overdue by )?(\d+ h \d{1,2} min|\d+ d \d{1,2} h)", text), text
    page.get_by_role("button", name="Log out").click()

    login(users[Role.COORDINATOR])
    page.goto(f"/safety/ae/{form_id}/")
    page.get_by_label("Sent to").fill("Sponsor safety desk")
    page.get_by_label("Reference").fill("SPN-0001")
    page.get_by_role("button", name="Submit report").click()
    assert "SPN-0001" in page.get_by_test_id("report-0").inner_text()
    assert "Met" in page.locator("table.clocks").inner_text()


def test_expectedness_then_single_case_unblinding(page, login, users, make_ae, randomize):
    # A MALS participant on the active arm (anakinra IV): the real allocation and the real
    # single-case unblinding decide that this potential SUSAR is one.
    ae = make_ae(participant=randomize("MALS", arm="active"), **SERIOUS)
    login(users[Role.SAFETY_OFFICER])
    page.goto("/safety/clocks/")
    page.get_by_role("link", name=f"AE #{ae.pk} Melaena").last.click()
    assert page.get_by_test_id("product").inner_text() == "anakinra"
    page.get_by_label("No").check()
    page.get_by_label("Reference safety information (document, version)").fill("IB anakinra v3")
    page.get_by_label("Sponsor became aware at").fill("2025-06-01T12:00")
    page.get_by_role("button", name="Record assessment").click()
    assert page.get_by_test_id("case-status").inner_text() == "Potential SUSAR"
    page.get_by_role("button", name="Log out").click()

    login(users[Role.PHARMACOVIGILANCE])
    case = ExpeditedAssessment.objects.get(adverse_event=ae)
    page.goto("/safety/cases/")
    page.get_by_role("link", name=f"AE #{ae.pk} Melaena").click()
    page.get_by_label("Reason for unblinding this case").fill("Potential SUSAR: related and unexpected")
    page.get_by_label("Your password (re-authentication)").fill("wrong")
    page.get_by_role("button", name="Unblind and decide").click()
    assert "Incorrect password" in page.locator(".has-error").first.inner_text()
    from tests.conftest import PASSWORD

    page.get_by_label("Reason for unblinding this case").fill("Potential SUSAR: related and unexpected")
    page.get_by_label("Your password (re-authentication)").fill(PASSWORD)
    page.get_by_role("button", name="Unblind and decide").click()
    assert "SUSAR (reported)" in page.get_by_test_id("decision").inner_text()
    page.get_by_label("Sent at").fill("2025-06-03T10:00")
    page.get_by_label("Sent to (authority)").fill("EudraVigilance")
    page.get_by_label("Reference").fill("EU-1")
    page.get_by_role("button", name="Record SUSAR report").click()
    assert "EudraVigilance" in page.content()
    case.refresh_from_db()
    assert case.status == "closed"
    page.get_by_role("button", name="Log out").click()

    login(users[Role.INVESTIGATOR])
    page.goto(f"/safety/ae/{ae.pk}/")
    assert page.get_by_test_id("case-status").inner_text() == "Closed"


def test_adjudication_queue_and_form(page, login, make_user, make_ae):
    ae = make_ae(**SERIOUS)
    first, second = make_user(Role.SAFETY_OFFICER), make_user(Role.SAFETY_OFFICER)
    adjudication_review_submit(actor=first, adjudication=Adjudication.objects.get(adverse_event=ae),
                               data={"serious": True, "related_iv": True, "related_sc": False, "expected": False,
                                     "llt_code": 94000004, "special_interest": "bleeding"})
    login(second)
    page.goto("/safety/adjudication/")
    page.get_by_role("link", name=f"AE #{ae.pk} Melaena").click()
    assert "Review by" not in page.content()
    page.locator("input[name=serious][value=yes]").check()
    page.locator("input[name=related_iv][value=yes]").check()
    page.locator("input[name=related_sc][value=no]").check()
    page.locator("input[name=expected][value=no]").check()
    page.get_by_label("Final coded term (LLT code)").fill("94000004")
    page.get_by_label("Special interest").select_option("bleeding")
    page.get_by_role("button", name="Submit review").click()
    assert page.get_by_test_id("adj-status").inner_text() == "Final"
    assert "agreement of" in page.get_by_test_id("final").inner_text()
