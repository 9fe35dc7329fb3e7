"""Browser: the statistician opens the analysis page of the study lock's unblinded package after
the study unblinding, and the DSMB member the report of a closed interim cut, reaching it from the
package list; both show the package's own numbers (responders, the safety tables, the anemia
signal) and the DSMB report has no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.analysis.reader import read_adam, read_safety
from ecrf.analysis.primary import ACTIVE, PLACEBO, primary_analysis, summary_line
from ecrf.analysis.safety_tables import count_text, safety_tables
from ecrf.exports.package import exports_dir
from ecrf.exports.services import data_cut_create
from ecrf.randomization.unblinding import study_unblind
from ecrf.review.services import scope_lock
from ecrf.study.services import current_protocol
from tests.analysis.world import build_world
from tests.browser.conftest import AXE, RUN_AXE
from tests.conftest import PASSWORD
from tests.exports.conftest import export_now
from tests.support import stages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _numbers(path: Path) -> tuple[str, dict, dict]:
    adsl, adsofa = read_adam(path)
    result = primary_analysis(adsl, adsofa, threshold=current_protocol().responder_threshold)
    return summary_line(result), safety_tables(*read_safety(path)), result


def test_statistician_after_unblinding_and_dsmb_on_a_closed_cut(page, login, settings, tmp_path):
    settings.EXPORTS_DIR = str(tmp_path)
    world = build_world()
    users = {role: user_create(actor=None, username=f"br-{role}", roles=[role], password=PASSWORD)[0]
             for role in (Role.STATISTICIAN, Role.DSMB, Role.DATA_MANAGER)}
    with stages.clock(world.as_of):
        cut = data_cut_create(actor=users[Role.STATISTICIAN], label="DSMB interim 1", cutoff_at=world.as_of, closed=True)
        closed = export_now(users[Role.STATISTICIAN], blinded=False, cut=cut)
    with stages.clock(world.as_of), override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        scope_lock(actor=users[Role.DATA_MANAGER], level="study", reason="Final database lock")
    study_unblind(actor=users[Role.STATISTICIAN], reason="Final analysis", password=PASSWORD)
    final = export_now(users[Role.STATISTICIAN], blinded=False)

    summary, safety, result = _numbers(exports_dir() / final.file_name)
    login(users[Role.STATISTICIAN])
    page.goto(f"/exports/{final.pk}/")
    page.get_by_role("link", name="Open the primary analysis and safety tables of this package").click()
    main = page.locator("main")
    assert summary in main.inner_text()
    responders = page.get_by_role("table", name="Responders, overall and per phenotype")
    first = responders.locator("tbody tr").first.locator("td")
    a, p = result["primary"]["active"], result["primary"]["placebo"]
    assert first.nth(0).inner_text().startswith(f"{a['responders']}/{a['n']} ")
    assert first.nth(1).inner_text().startswith(f"{p['responders']}/{p['n']} ")
    # The safety tables: the "any adverse event" row, SAE participants per arm, and N per arm.
    any_ae = page.locator("#safety-soc tbody tr").first.locator("td")
    row = safety["by_soc"][0]["arms"]
    assert [any_ae.nth(i).inner_text() for i in (2, 3, 6, 7)] == [
        str(row[ACTIVE]["serious"]["events"]), count_text(row[ACTIVE]["serious"]["participants"], safety["n"][ACTIVE]),
        str(row[PLACEBO]["serious"]["events"]), count_text(row[PLACEBO]["serious"]["participants"], safety["n"][PLACEBO])]
    assert sorted([any_ae.nth(2).inner_text(), any_ae.nth(6).inner_text()]) == ["0", "1"]  # the world's one SAE

    _, cut_safety, _ = _numbers(exports_dir() / closed.file_name)
    page.context.add_init_script(path=str(AXE))
    page.context.clear_cookies()  # the statistician's session ends; the DSMB member logs in
    login(users[Role.DSMB])
    page.goto("/exports/")
    page.get_by_role("link", name=str(closed.pk), exact=True).click()
    page.get_by_role("link", name="Open the DSMB report of this package").click()
    assert page.get_by_role("heading", level=1).inner_text() == "ISEP: DSMB closed report, DSMB interim 1"
    anemia = next(s for s in cut_safety["signals"] if s["key"] == "anemia")
    mals = next(g for g in anemia["groups"] if g["phenotype"] == "MALS")
    cells = page.locator("#signal-anemia tbody tr").nth(1)
    assert cells.locator("th").inner_text() == "MALS (receives anakinra if active)"
    assert [cells.locator("td").nth(i).inner_text() for i in (0, 1)] == [
        count_text(mals["arms"][arm]["participants"], mals["arms"][arm]["n"]) for arm in (ACTIVE, PLACEBO)]
    assert sum(mals["arms"][arm]["participants"] for arm in (ACTIVE, PLACEBO)) == 1  # p1's anemia, MALS
    assert page.evaluate(RUN_AXE) == []
