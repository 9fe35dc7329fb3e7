"""The shared pieces of the design system: the main menu and the status badges.

``{% main_menu %}`` draws the entries of ``ecrf.core.navigation`` that the user may open.
``{% state_badge code label %}`` draws one status (a form's entry state, a review overlay, a
clock's or query's state) with the same colour and icon everywhere: the casebook grid, its
legend and the lists. The colour is never the only signal (WCAG 1.4.1): every badge carries an
icon and its words.
"""

from __future__ import annotations

from typing import Any

from django import template

from ecrf.core.navigation import menu_for

register = template.Library()

# code -> (tone, icon). The tone names a colour of static/css/ecrf.css (.st-tone-*); codes not
# listed are drawn neutral, so a new state shows its words before it has a colour.
STATES: dict[str, tuple[str, str]] = {
    "not_expected": ("muted", "–"),
    "upcoming": ("light", "○"),
    "due": ("info", "◔"),
    "overdue": ("danger", "!"),
    "draft": ("warning", "✎"),
    "entered": ("success", "✓"),
    "not_done": ("neutral", "⊘"),
    "queried": ("query", "?"),
    "verified": ("verified", "✔"),
    "verify_stale": ("warning", "↻"),
    "signed": ("signed", "✒"),
    "sign_void": ("warning", "↻"),
    "frozen": ("frozen", "❄"),
    "locked": ("locked", "■"),
    # Reporting clocks and queries use the same vocabulary where it fits.
    "running": ("info", "◔"),
    "due_soon": ("warning", "!"),
    "met": ("success", "✓"),
    "met_late": ("warning", "✓"),
    "closed": ("neutral", "✓"),
    "open": ("query", "?"),
    "answered": ("info", "↩"),
    "submitted": ("success", "✓"),
    "retracted": ("muted", "⊘"),
}


def state_style(code: str) -> tuple[str, str]:
    return STATES.get(code, ("neutral", "•"))


@register.inclusion_tag("ui/badge.html")
def state_badge(code: str, label: Any, testid: str = "") -> dict[str, Any]:
    tone, icon = state_style(code)
    return {"code": code, "label": label, "tone": tone, "icon": icon, "testid": testid}


@register.inclusion_tag("ui/menu.html", takes_context=True)
def main_menu(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"items": menu_for(user, getattr(request, "path", ""))}


@register.filter
def state_tone(code: str) -> str:
    return state_style(code)[0]


@register.filter
def state_icon(code: str) -> str:
    return state_style(code)[1]
