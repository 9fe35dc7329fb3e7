"""Browser: every role's menu pages (the pages that role works in) have no serious or critical
accessibility violation (axe-core, served to the tests only), in English and in Greek."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AXE, RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _menu_pages(page) -> list[str]:  # noqa: ANN001
    links = page.get_by_role("navigation", name="Main").locator("a[href]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    return sorted({h for h in hrefs if h and h.startswith("/") and not h.startswith("/admin/")})


def test_each_roles_menu_pages_pass_axe(page, login, users, randomized):
    page.context.add_init_script(path=str(AXE))
    page.set_viewport_size({"width": 1366, "height": 900})
    problems: dict[str, list[str]] = {}
    checked = 0
    seen: set[str] = set()
    for role, user in users.items():
        page.context.clear_cookies()
        login(user)
        for url in ["/", *_menu_pages(page)]:
            page.goto(url)
            # A page several roles share is checked once; what differs per role on it (the menu)
            # is on the home page, which every role's run checks.
            if url != "/" and url in seen:
                continue
            seen.add(url)
            found = page.evaluate(RUN_AXE)
            checked += 1
            if found:
                problems[f"{role} {url}"] = found
    assert problems == {}
    assert checked > 20, checked


def test_the_greek_pages_pass_axe(page, login, users, randomized):
    """The Greek labels are longer than the English: the layout still passes (contrast, names)."""
    page.context.add_init_script(path=str(AXE))
    login(users["coordinator"])
    page.get_by_label("Language").select_option("el")
    page.get_by_role("button", name="Change language").click()
    assert page.locator("html").get_attribute("lang") == "el"
    problems = {}
    for url in ["/", *_menu_pages(page), f"/participants/{randomized.pk}/"]:
        page.goto(url)
        if found := page.evaluate(RUN_AXE):
            problems[url] = found
    assert problems == {}
