"""Browser: under the Content-Security-Policy the pages' own scripts run with no violation, and
an inline script does not run (the policy is really enforced, not only sent)."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from tests.safety import conftest as safety_fixtures
from tests.safety.conftest import SERIOUS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
make_ae = safety_fixtures.make_ae
meddra = safety_fixtures.meddra

# Recorded in the page before any of its scripts run.
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def violations(page, console: list[str]) -> list[str]:  # noqa: ANN001
    found = page.evaluate("window.__cspViolations || []")
    return found + [m for m in console if "Content Security Policy" in m or "Content-Security-Policy" in m]


def test_own_scripts_run_without_violations_and_inline_scripts_do_not(page, login, users, make_ae):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH)
    make_ae(**SERIOUS)
    login(users[Role.SAFETY_OFFICER])
    for url in ("/", "/safety/clocks/"):
        response = page.goto(url)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert violations(page, console) == [], url
    # The clock board's own script (static/safety/countdown.js) ran: a running clock, in the
    # server's words (hours and minutes).
    countdown = page.locator(".countdown").first
    assert countdown.get_attribute("data-live") == "1"
    assert " h " in countdown.inner_text() or " d " in countdown.inner_text()

    # An injected inline script is refused and reported: the policy is enforced.
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__inlineRan = true;'; document.body.appendChild(s); }""")
    assert page.evaluate("window.__inlineRan === true") is False
    assert any(v.startswith("script-src") for v in violations(page, console))


def test_api_docs_run_under_their_own_policy(page, login, users):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH)
    login(users[Role.DATA_MANAGER])
    response = page.goto("/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    page.locator("#swagger-ui .information-container").wait_for()
    assert violations(page, console) == []
