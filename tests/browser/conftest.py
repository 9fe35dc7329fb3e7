"""Playwright with Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ECRF_CHROMIUM", "/usr/bin/chromium")
# axe-core, pinned and fetched with its integrity hash by bin/vendor-assets; injected before the
# page's own scripts (an init script is not subject to the page's Content-Security-Policy).
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# The serious and critical violations of the page as it is (e.g. with a <details> opened).
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page):
    from tests.conftest import PASSWORD

    def do_login(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    return do_login


@pytest.fixture
def axe(page):
    """``axe()`` -> the serious and critical accessibility violations of the page now open."""
    page.context.add_init_script(path=str(AXE))

    def run(on=None) -> list[str]:  # noqa: ANN001
        return (on or page).evaluate(RUN_AXE)

    return run
