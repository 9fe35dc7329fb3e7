"""Browser: the pictures (SOFA by day on the participant page, the participant flow and
enrolment on the screening report, the clock board's timeline) are drawn, their text
alternatives open without JavaScript's help, and the pages have no serious or critical
accessibility violation (axe-core)."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.sofa.specs import SOFA_DAY
from safety.meddra import ensure_demo_dictionary
from safety.specs import AE_SPEC
from tests.browser.conftest import AXE, RUN_AXE
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SOFA = {"day": 1, "pao2": "80", "pao2_unit": "mmHg", "fio2": "0.40", "respiratory_support": "invasive",
        "platelets": "90", "bilirubin": "2.5", "bilirubin_unit": "mg/dL", "map": "65", "dopamine": "0",
        "dobutamine": "0", "epinephrine": "0", "norepinephrine": "0.05", "gcs": 13, "gcs_sedated": False,
        "creatinine": "180", "creatinine_unit": "umol/L", "urine_output": "600"}  # 2+2+2+3+1+2 = 12


def test_the_pictures_are_drawn_with_their_alternatives_and_pass_axe(page, login, axe, browser, live_server,
                                                                     users, coordinator, randomized):
    form_create(actor=coordinator, spec=SOFA_DAY, participant=randomized, data=SOFA, submit=True)
    ensure_demo_dictionary()
    form_create(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, participant=randomized, submit=True, data={
        "verbatim_term": "Melaena", "llt_code": 94000004, "onset_date": dt.date(2025, 3, 11), "grade": 3,
        "outcome": "recovering", "aware_at": dt.datetime(2025, 3, 11, 9, 0, tzinfo=dt.UTC),
        "causality_iv": "possible", "causality_sc": "unlikely", "serious": True, "serious_hospitalisation": True,
        "bleeding": True, "bleeding_site": "upper GI", "bleeding_severity": "major"})
    login(coordinator)
    problems = {}

    page.goto(f"/participants/{randomized.pk}/")
    chart = page.get_by_test_id("sofa-trajectory")
    assert chart.locator("rect.organ").count() == 6
    page.get_by_text("SOFA by day as a table").click()
    assert page.get_by_test_id("sofa-table-total").first.inner_text() == "12"
    page.screenshot(path="/tmp/pictures-participant.png", full_page=True)
    problems["participant"] = axe()

    page.goto("/screening/report/")
    assert page.get_by_test_id("consort-flow").locator("[data-box=dosed]").get_attribute("data-count") == "0"
    assert page.get_by_test_id("enrolment-by-site").locator("[data-series=A]").get_attribute("data-total") == "1"
    page.get_by_text("The participant flow as text").click()
    assert page.get_by_test_id("flow-text").get_by_text("Randomized: 1").is_visible()
    page.screenshot(path="/tmp/pictures-report.png", full_page=True)
    problems["screening report"] = axe()

    # The clock board is the safety officer's.
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.add_init_script(path=str(AXE))
    officer = context.new_page()
    officer.goto("/accounts/login/")
    officer.get_by_label("Username").fill(users[Role.SAFETY_OFFICER].username)
    officer.get_by_label("Password").fill(PASSWORD)
    officer.get_by_role("button", name="Log in").click()
    officer.goto("/safety/clocks/")
    timeline = officer.get_by_test_id("clock-timeline")
    assert timeline.locator("[data-state=overdue]").count() >= 1
    officer.screenshot(path="/tmp/pictures-clocks.png", full_page=True)
    problems["clock board"] = officer.evaluate(RUN_AXE)
    context.close()
    assert {name: found for name, found in problems.items() if found} == {}
