"""The main menu: the registry of navigation entries.

Each app declares the pages its users open from the menu in its own ``navigation.py``, with
``register_entry(NavEntry(...))``; the menu finds those modules with ``autodiscover_modules`` the
first time it is drawn, so this ground-floor module names no app above it (ARCHITECTURE.md
"Registries"). An entry's ``visible(user)`` decides who sees it and must agree with the page's own
check, so that no menu link leads to a 403: an app builds it with ``for_roles`` from the same
role set its view requires (the link crawl in tests/ui checks every role).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.module_loading import autodiscover_modules

from ecrf.accounts.roles import has_role

Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class NavEntry:
    key: str  # unique, e.g. "safety.clock-board"
    label: Any  # a (lazy) translated string
    url_name: str  # reversed without arguments
    visible: Predicate
    order: int = 100  # left to right, in the order of the flow of data


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url: str
    current: bool


_ENTRIES: dict[str, NavEntry] = {}
_discovered = False


def register_entry(entry: NavEntry) -> NavEntry:
    _ENTRIES[entry.key] = entry
    return entry


def for_roles(roles: Iterable[str]) -> Predicate:
    """Visible to a user holding any of ``roles`` (the set the page itself requires)."""
    wanted = frozenset(roles)

    def visible(user: Any) -> bool:
        return has_role(user, wanted)

    return visible


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("navigation")
        _discovered = True


def entries() -> list[NavEntry]:
    _discover()
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key))


def menu_for(user: Any, path: str = "") -> list[MenuItem]:
    """The menu of ``user``: the entries it may open, the one whose page ``path`` is marked."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = [(e, reverse(e.url_name)) for e in entries() if e.visible(user)]
    # The current entry is the longest URL that ``path`` starts with ("/" only for the home page).
    best = max((url for _, url in items if path == url or (url != "/" and path.startswith(url))), key=len, default=None)
    return [MenuItem(key=e.key, label=str(e.label), url=url, current=url == best) for e, url in items]
