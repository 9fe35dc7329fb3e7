"""The permission matrix: every URL pattern x every role x own site / other site.

Each app declares its URLs' rules in ``tests/permissions/entries_<app>.py`` as
``RULES: dict[url_name, Rule]`` and may add objects with ``build(fx)``. A URL pattern without a
rule fails ``test_every_url_has_a_rule``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from ecrf.accounts.roles import SITE_SCOPED_ROLES, Role

ALL_ROLES = tuple(Role.values)
PAGE_LOGIN = 302  # pages redirect anonymous users to the login page
API_ANON = (401, 403)


@dataclass
class Fixtures:
    """Objects at the user's own site ("own", site A) and at another site ("other", site B)."""

    sites: dict[str, Any]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"own": obj, "other": obj}

    def add(self, name: str, own: Any, other: Any) -> None:
        self.objects[name] = {"own": own, "other": other}

    def get(self, name: str, where: str) -> Any:
        return self.objects[name][where]


@dataclass(frozen=True)
class Rule:
    """Expected outcomes of one URL for each role.

    ``allowed`` roles get ``ok`` on their own site's object; others get ``denied``. For an
    object at another site, site-scoped roles get ``other_site`` (404: not visible), while
    roles that see every site get the same as for their own. ``statuses`` overrides per role.
    """

    allowed: frozenset[str]
    ok: int = 200
    denied: int = 403
    method: str = "get"
    data: dict | None = None
    kwargs: Callable[[Fixtures, str, Any], dict] | None = None  # (fx, "own"|"other", user) -> URL kwargs
    other_site: int = 404
    site_scoped: bool = True  # whether the URL names an object that belongs to a site
    statuses: dict[str, int] = field(default_factory=dict)
    statuses_other: dict[str, int] = field(default_factory=dict)
    anonymous: tuple[int, ...] | int = PAGE_LOGIN
    api: bool = False
    ends_session: bool = False  # e.g. logout: checked with a client of its own

    def expected(self, role: str, where: str) -> int:
        if where == "other" and role in self.statuses_other:
            return self.statuses_other[role]
        if role in self.statuses:
            base = self.statuses[role]
        else:
            base = self.ok if role in self.allowed else self.denied
        explicit = role in self.statuses
        if (where == "other" and self.kwargs is not None and self.site_scoped and role in SITE_SCOPED_ROLES
                and (base == self.ok or explicit)):
            return self.other_site
        return base


def walk_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(full URL name, route) for every named pattern; unnamed ones get their route as name."""
    resolver = resolver or get_resolver()
    found: list[tuple[str, str]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else (entry.namespace or namespace)
            found.extend(walk_patterns(entry, prefix + str(entry.pattern), ns))
        elif isinstance(entry, URLPattern):
            name = entry.name or f"<unnamed:{prefix}{entry.pattern}>"
            full = f"{namespace}:{name}" if namespace and entry.name else name
            found.append((full, prefix + str(entry.pattern)))
    return found


def load_entries() -> tuple[dict[str, Rule], list[Callable[[Fixtures], None]], list[Callable[[str], Rule | None]]]:
    import tests.permissions as pkg

    rules: dict[str, Rule] = {}
    builders: list[Callable[[Fixtures], None]] = []
    generic: list[Callable[[str], Rule | None]] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("entries_"):
            continue
        module = importlib.import_module(f"tests.permissions.{info.name}")
        for name, rule in getattr(module, "RULES", {}).items():
            if name in rules:
                raise AssertionError(f"URL {name} has two rules")
            rules[name] = rule
        if hasattr(module, "build"):
            builders.append(module.build)
        if hasattr(module, "rule_for"):
            generic.append(module.rule_for)
    return rules, builders, generic


def rule_lookup(name: str, rules: dict[str, Rule], generic: list[Callable[[str], Rule | None]]) -> Rule | None:
    if name in rules:
        return rules[name]
    for func in generic:
        rule = func(name)
        if rule is not None:
            return rule
    return None
