"""Browser: a coordinator screens a patient to an outcome (pending, then eligible with its
phenotype once consent and the central lab's result are in)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.screening.models import EXCLUSION_COLUMNS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from ecrf.notifications import tasks

    monkeypatch.setattr(tasks.deliver_pending, "delay", lambda *a, **k: None)


def local(minutes_ago: int) -> str:
    return timezone.localtime(timezone.now() - dt.timedelta(minutes=minutes_ago), ATHENS).strftime("%Y-%m-%dT%H:%M")


def test_coordinator_screens_a_patient_to_an_outcome(page, login, users, site_a):
    login(users[Role.COORDINATOR])
    page.goto("/screening/")
    page.get_by_role("link", name="Screen a patient").click()
    page.locator("#id_screening_number").fill("A-0042")
    page.get_by_label("Sepsis-3 met at").fill(local(240))
    page.get_by_label("Admission route").select_option("emergency_department")
    page.get_by_label("SOFA score (or its rise) meeting Sepsis-3").fill("7")
    page.get_by_label("Age (years)").fill("58")
    page.locator("#id_f-sex").select_option("male")
    page.get_by_label("Infection source").select_option("CAP")
    page.get_by_label("COVID-19").select_option("false")
    page.get_by_label("Absolute neutrophils (/mm³)").fill("11000")
    page.get_by_label("Systemic corticosteroids (mg hydrocortisone equivalent per day)").fill("0")
    for column in EXCLUSION_COLUMNS.values():
        page.locator(f"#id_f-{column}").select_option("false")
    page.get_by_role("button", name="Submit").click()
    # The outcome at once: pending, awaiting consent and the central lab.
    assert page.get_by_test_id("eligibility").inner_text() == "Pending"
    assert "ferritin" in page.get_by_test_id("screening-outcome").inner_text()
    # Consent, on the consent form.
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Consent given by").select_option("representative")
    page.get_by_label("Representative's relation to the patient").select_option("spouse")
    page.get_by_label("Consent form version").fill("v2.0")
    page.get_by_label("Date and time of the decision").fill(timezone.localtime(timezone.now() - dt.timedelta(hours=3), ATHENS)
                                                           .strftime("%Y-%m-%d %H:%M"))
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_test_id("status").inner_text() == "Submitted"
    page.get_by_role("button", name="Log out").click()
    # The central lab enters ferritin and HLA-DR.
    login(users[Role.LAB])
    from ecrf.crf.models import Participant

    participant = Participant.objects.get(screening_number="A-0042")
    page.goto(f"/screening/participants/{participant.pk}/")
    page.get_by_role("link", name="Enter central-lab results").click()
    stamp = timezone.localtime(timezone.now() - dt.timedelta(minutes=100), ATHENS).strftime("%Y-%m-%d %H:%M")
    result = timezone.localtime(timezone.now() - dt.timedelta(minutes=60), ATHENS).strftime("%Y-%m-%d %H:%M")
    page.locator("#id_f-ferritin").fill("7300")
    page.get_by_label("Ferritin sampled at").fill(stamp)
    page.get_by_label("Ferritin resulted at").fill(result)
    page.get_by_label("HLA-DR (receptors per monocyte)").fill("2100")
    page.get_by_label("HLA-DR sampled at").fill(stamp)
    page.get_by_label("HLA-DR resulted at").fill(result)
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_test_id("status").inner_text() == "Submitted"
    page.get_by_role("button", name="Log out").click()
    # Back at the site: eligible, MALS (both definitions met), shown on the screening page.
    login(users[Role.COORDINATOR])
    page.goto(f"/screening/participants/{participant.pk}/")
    assert page.get_by_test_id("eligibility").inner_text() == "Eligible"
    assert page.get_by_test_id("phenotype").inner_text().startswith("MALS")
    assert "7300" in page.get_by_test_id("lab").inner_text()
    page.goto("/screening/")
    row = page.get_by_role("row").filter(has_text="A-0042")
    assert "Eligible" in row.inner_text() and "MALS" in row.inner_text()


def test_refused_lab_file_shows_the_row_report(page, login, users, site_a, tmp_path):
    login(users[Role.LAB])
    page.goto("/screening/lab-import/")
    bad = tmp_path / "lab.csv"
    bad.write_text("site,screening_number,ferritin\nA,NOPE-1,-3\n")
    page.get_by_label("Central-lab CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    assert "refused whole" in page.get_by_role("alert").first.inner_text()
    report = page.get_by_test_id("import-report").inner_text()
    assert "Unknown screening number 'NOPE-1' at site A." in report
