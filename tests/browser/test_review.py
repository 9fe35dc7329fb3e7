"""Browser: a monitor verifies a form, an investigator signs the casebook, and a data manager
sees the study-lock gate's blockers and freezes the participant (pages without JavaScript)."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.models import LockScope
from ecrf.review.models import Signature, Verification
from tests.conftest import PASSWORD

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
    assert page.get_by_test_id("sdv-forms").locator("tbody tr").first.locator("td.sdv-verified").inner_text() == "Verified"
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
