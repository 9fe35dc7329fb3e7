"""Browser: a monitor verifies a form, an investigator signs the casebook, and a data manager
sees the study-lock gate's blockers and freezes the participant; a monitor verifies some fields
of a form and an investigator signs that one form (pages without JavaScript)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_create
from ecrf.review.models import Signature, Verification
from tests.browser.conftest import AXE, RUN_AXE
from tests.conftest import PASSWORD
from tests.testapp.specs import VITALS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_verify_sign_and_freeze(page, login, users, make_randomized):
    participant = make_randomized(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    login(users[Role.MONITOR])
    page.get_by_role("link", name="Verification").click()
    page.get_by_role("link", name=participant.label).click()
    first = page.get_by_test_id("sdv-forms").locator("tbody tr").first
    first.get_by_role("button", name="Verify").click()
    assert "verified" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("sdv-forms").locator("tbody tr").first.locator("td.sdv-verified").inner_text() == "Verified (whole form)"
    assert Verification.objects.filter(participant=participant).count() == 1
    _logout(page)

    login(users[Role.INVESTIGATOR])
    page.goto(f"/review/participants/{participant.pk}/sign/")
    page.get_by_label("Meaning of your signature").select_option("approve")
    page.get_by_label("Your password (re-enter it to sign)").fill("wrong-password")
    page.get_by_role("button", name="Sign").click()
    assert "not correct" in page.locator(".error").first.inner_text()
    page.get_by_label("Your password (re-enter it to sign)").fill(PASSWORD)
    page.get_by_role("button", name="Sign").click()
    assert "Signed by" in page.get_by_test_id("sign-state").inner_text()
    assert Signature.objects.filter(participant=participant).count() == 1
    _logout(page)

    login(users[Role.DATA_MANAGER])
    page.get_by_role("link", name="Freeze and lock").click()
    blockers = page.get_by_test_id("gate-blockers")
    assert participant.label in blockers.inner_text() and "Every expected form entered" in blockers.inner_text()
    page.locator("#id_kind").select_option("freeze")
    page.locator("#id_level").select_option("participant")  # "Level" is also in the target fields' labels
    page.get_by_label("Participant (participant level)").select_option(str(participant.pk))
    page.get_by_label("Reason or label").fill("Interim review")
    page.get_by_role("button", name="Apply").click()
    assert participant.label in page.get_by_test_id("active-scopes").inner_text()
    assert LockScope.objects.get(participant=participant).kind == "freeze"


def test_a_monitor_verifies_two_fields_and_an_investigator_signs_one_form(page, login, users, make_user, coordinator,
                                                                           participant_a):
    vitals = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                         data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 100})
    page.context.add_init_script(path=str(AXE))
    login(users[Role.MONITOR])
    page.goto(f"/review/participants/{participant_a.pk}/verification/")
    fields = page.get_by_test_id(f"sdv-fields-{VITALS.slug}-{vitals.pk}")
    fields.locator("summary").click()
    assert fields.get_by_test_id("sdv-field-temperature").inner_text().split("\t")[1:] == ["temperature (°C)", "38.5", "Not verified"]
    fields.get_by_label("temperature (°C)").check()
    fields.get_by_label("heart rate (/min)").check()
    assert page.evaluate(RUN_AXE) == []
    fields.get_by_role("button", name="Verify the ticked fields").click()
    assert "fields verified: temperature (°C), heart rate (/min)" in page.locator(".messages").inner_text()
    state = page.get_by_test_id(f"sdv-{VITALS.slug}-{vitals.pk}").get_by_test_id("sdv-state")
    assert state.inner_text() == "Partly verified: 2 of 4 fields"
    assert list(Verification.objects.values_list("fields", "version")) == [(["temperature", "heart_rate"], 1)]
    _logout(page)

    investigator = make_user(Role.INVESTIGATOR, first_name="Eleni", last_name="Papadopoulou")
    login(investigator)
    page.goto(f"/review/participants/{participant_a.pk}/sign/")
    page.get_by_test_id(f"sign-{VITALS.slug}-{vitals.pk}").get_by_role("link", name="Sign this form").click()
    meaning = page.get_by_label("Meaning of your signature")
    assert "I approve the data of this form" in meaning.inner_text() and "casebook" not in meaning.inner_text()
    meaning.select_option("approve")
    page.get_by_label("Your password (re-enter it to sign)").fill("wrong-password")
    page.get_by_role("button", name="Sign this form").click()
    assert "not correct" in page.get_by_test_id("form-sign-error").inner_text() and not Signature.objects.exists()
    page.get_by_label("Your password (re-enter it to sign)").fill(PASSWORD)
    page.get_by_role("button", name="Sign this form").click()
    shown = page.get_by_test_id("form-sign-state").inner_text()
    assert re.match(r"Signed by Eleni Papadopoulou on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d{4}-\d\d-\d\d \d\d:\d\d EES?T\): "
                    r"“I approve the data of this form”", shown), shown
    assert page.evaluate(RUN_AXE) == []
    sig = Signature.objects.get()
    assert sig.level == "form" and sig.form_id == vitals.pk and sig.signer == investigator
    page.get_by_role("link", name="The form's page").click()
    assert "Signed by Eleni Papadopoulou" in page.get_by_test_id("field-notes").first.inner_text()
