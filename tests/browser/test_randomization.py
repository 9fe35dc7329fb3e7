"""Browser: a coordinator randomizes an eligible participant after a confirmation step; the
site's pharmacist then sees what to prepare and records it."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import allocation_list_generate
from tests.support.screening import eligible_participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from ecrf.notifications import tasks

    monkeypatch.setattr(tasks.deliver_pending, "delay", lambda *a, **k: None)


def test_coordinator_randomizes_and_pharmacist_prepares(page, login, users, site_a, site_b):
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="browser", slots_per_stratum=8)
    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-7", "immunoparalysis")
    login(users[Role.COORDINATOR])
    page.goto(f"/participants/{participant.pk}/")
    page.get_by_role("link", name="Randomize", exact=True).click()
    page.get_by_role("button", name="Confirm randomization").click()
    assert "Randomized: subject ID A-001" in page.get_by_role("status").inner_text()
    panel = page.get_by_test_id("randomization").inner_text()
    assert "A-001" in panel and "IV study drug" in panel and "SC study drug" in panel
    assert "active" not in panel.lower() and "placebo" not in panel.lower()
    page.get_by_role("button", name="Log out").click()
    login(users[Role.PHARMACIST])
    page.goto("/pharmacy/")
    page.get_by_role("link", name="A-001").click()
    assignment = Assignment.objects.select_related("slot").get(participant_id=participant.pk)
    assert page.get_by_test_id("arm").inner_text() == {"active": "Active", "placebo": "Placebo"}[assignment.slot.arm]
    needed = "interferon_gamma" if assignment.slot.arm == "active" else "placebo_sc"
    shown = {"interferon_gamma": "Interferon-gamma-1b (SC)", "placebo_sc": "Placebo (SC saline)"}[needed]
    assert shown in page.get_by_test_id("need-sc").inner_text()
    page.get_by_label("Route").select_option("sc")
    page.get_by_label("Product").select_option(needed)
    page.locator("#id_lot").fill("LOT-77")  # the single preparation's lot (the day form has one per route)
    page.get_by_role("button", name="Record", exact=True).click()
    assert "A-001 · SC study drug · dose 1" in page.get_by_role("status").inner_text()
