"""The permission matrix: every URL x every HTTP method its view accepts x 12 roles x own / other site.

The expected outcomes are written by hand in ``tests/permissions/entries_<app>.py`` from ARCHITECTURE.md
("Roles" and "Who may see what"), never read from the settings that grant access (form specs'
roles, ``ecrf.accounts.roles`` constants, admin classes' declared roles): a wrong grant then
shows up as a difference between the table and the application.

Each entries module declares ``RULES: dict[url_name, dict[method, Check]]`` and may add the
objects its rules name with ``build(fx)``. Besides the row of each method its view accepts, a
URL may have variant rows, keyed by the method and a word (``"post fields"``, ``"get form"``):
one page that does more than one thing by its parameters gets a row for each. A ``Check`` lists, by literal role code, the status
each role gets; ``Own(s)`` means "s for the user's own site's object, 404 for the other site's"
(site staff cannot see other sites). Roles not listed get ``others`` (403 unless stated).

Writes (every method but GET) are sent with valid bodies, inside a savepoint that is rolled back
after the request, so state never drifts between checks; a refused write must leave the
database as it was (``fingerprint``). List checks parse the response for the rows of both sites.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

# The twelve role codes of ARCHITECTURE.md "Roles", written out rather than imported.
ROLES = ("investigator", "coordinator", "pharmacist", "lab", "monitor", "data_manager", "safety_officer",
         "pharmacovigilance", "sponsor", "statistician", "dsmb", "admin")
# ARCHITECTURE.md: investigators, coordinators and pharmacists see their own site; monitors their assigned sites.
SITE_SCOPED = frozenset({"investigator", "coordinator", "pharmacist", "monitor"})
PAGE_ANON = 302  # pages send anonymous users to the login page
API_ANON = 401  # the API asks for credentials
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Own:
    """``own`` for the user's own site's object; ``other`` (404: not visible) for another site's."""

    own: int
    other: int = 404


Kwargs = Callable[["Fixtures", str, Any], dict]


@dataclass(frozen=True)
class Check:
    """The outcome of one (URL, method) for each role, at its own site and at another site.

    ``roles`` maps literal role codes to a status (the same at both sites) or ``Own``.
    ``kwargs(fx, where, user)`` builds the URL's arguments for the own ("own") or other ("other")
    site's object; ``body(fx, where, user)`` the request body. ``shows(fx, where)`` names what a
    list shows of each site's rows: ``("key", value)`` for a JSON list (a key/value pair in
    its results) or a string for a page; ``Own(200)`` then means "sees its own site's rows and
    none of the other's" and a plain 200 "sees both".
    """

    roles: dict[str, int | Own]
    others: int = 403
    anonymous: int | tuple[int, ...] = PAGE_ANON
    api: bool = False
    kwargs: Kwargs | None = None
    body: Kwargs | None = None
    shows: Callable[[Fixtures, str], Any] | None = None
    fresh_client: bool = False  # the request ends the session (logout): a client of its own
    # After a write that is not refused: True = the database changed (a row or a history row was
    # added), False = it did not (a page showing the form again with an error), None = not
    # checked (e.g. a login, which writes only the event log); or a dict per site ("own"/"other").
    changes: bool | None | dict[str, bool | None] = True
    multipart: bool = False  # an API upload (body with a file) rather than JSON
    per_site: bool = True  # False: the object belongs to no site (admin, configuration): checked once
    note: str = ""

    def expected(self, role: str, where: str) -> int:
        value = self.roles.get(role, self.others)
        if isinstance(value, Own):
            return value.own if where == "own" else value.other
        return value

    def changes_at(self, where: str) -> bool | None:
        return self.changes.get(where) if isinstance(self.changes, dict) else self.changes

    def sees_other_site(self, role: str) -> bool:
        return not isinstance(self.roles.get(role, self.others), Own)

    def places(self) -> tuple[str, ...]:
        """Own and other site when the URL or the body names a site's object."""
        return ("own", "other") if self.per_site and (self.kwargs is not None or self.body is not None) else ("own",)


def http_method(key: str) -> str:
    """The HTTP method of a row's key: ``"post"``, or ``"post fields"`` (a variant row of POST)."""
    return key.split()[0]


def check(roles: dict[str, int | Own], **options: Any) -> Check:
    return Check(roles=roles, **options)


def api(roles: dict[str, int | Own], **options: Any) -> Check:
    return Check(roles=roles, anonymous=API_ANON, api=True, **options)


@dataclass
class Fixtures:
    """Objects at the users' own site ("own", site A) and at another site ("other", site B)."""

    sites: dict[str, Any]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, own: Any, other: Any) -> None:
        self.objects[name] = {"own": own, "other": other}

    def get(self, name: str, where: str) -> Any:
        return self.objects[name][where]

    def fresh(self, name: str, where: str) -> Any:
        obj = self.get(name, where)
        return type(obj)._default_manager.get(pk=obj.pk)


def pk_of(name: str) -> Kwargs:
    return lambda fx, where, user: {"pk": fx.get(name, where).pk}


# --- which URLs and methods exist -------------------------------------------------------------

def walk_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> list[tuple[str, str, URLPattern]]:
    """(name, route, pattern) for every pattern; an unnamed one is named by its route: ``<route>``."""
    resolver = resolver or get_resolver()
    found: list[tuple[str, str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else (entry.namespace or namespace)
            found.extend(walk_patterns(entry, prefix + str(entry.pattern), ns))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = f"<{route}>"
            found.append((name, route, entry))
    return found


# Django's admin views (by the name of the function the admin wraps) and the methods each
# handles: forms take GET and POST; the rest only read.
ADMIN_VIEW_METHODS = {
    "index": {"get"}, "app_index": {"get"}, "login": {"get", "post"}, "logout": {"post"},
    "password_change": {"get", "post"}, "password_change_done": {"get"}, "i18n_javascript": {"get"},
    "autocomplete_view": {"get"}, "catch_all_view": {"get"}, "shortcut": {"get"},
    "changelist_view": {"get", "post"}, "add_view": {"get", "post"}, "change_view": {"get", "post"},
    "delete_view": {"get", "post"}, "history_view": {"get"}, "user_change_password": {"get", "post"},
}


def _class_methods(cls: type) -> set[str]:
    return {m for m in cls.http_method_names if m in METHODS and hasattr(cls, m)}


def _consts(func: Any) -> set[Any]:
    """Constants of a function, its nested code and the same module's functions it calls."""
    found: set[Any] = set()
    seen: set[Any] = set()
    pending = [func]
    while pending:
        f = pending.pop()
        code = getattr(f, "__code__", None)
        if code is None or code in seen:
            continue
        seen.add(code)
        stack = [code]
        while stack:
            c = stack.pop()
            for const in c.co_consts:
                if inspect.iscode(const):
                    stack.append(const)
                else:
                    found.add(const)
            for name in c.co_names:
                target = getattr(f, "__globals__", {}).get(name)
                if inspect.isfunction(target) and target.__module__ == f.__module__:
                    pending.append(target)
    return found


def accepted_methods(pattern: URLPattern) -> set[str]:
    """The HTTP methods the view behind ``pattern`` handles, read from the view itself.

    DRF viewsets: the router's method -> action map; class-based views: their handlers within
    ``http_method_names``; Django's admin: ``ADMIN_VIEW_METHODS``; function views: the list of
    ``require_http_methods`` if decorated, else GET plus POST when the function branches on
    "POST" (other methods fall through to the GET branch of such views).
    """
    callback = pattern.callback
    if getattr(callback, "actions", None):
        return {m for m in callback.actions if m in METHODS}
    for attr in ("cls", "view_class"):
        cls = getattr(callback, attr, None)
        if cls is not None:
            return _class_methods(cls)
    func = callback
    while True:
        name = getattr(func, "__name__", "")
        if name in ADMIN_VIEW_METHODS and (hasattr(func, "__self__") or getattr(callback, "admin_site", None)
                                           or getattr(callback, "model_admin", None)):
            return set(ADMIN_VIEW_METHODS[name])
        for cell in getattr(func, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v.isupper() for v in value):
                return {v.lower() for v in value if v.lower() in METHODS}
        inner = getattr(func, "__wrapped__", None)
        if inner is None:
            break
        func = inner
    if name in ADMIN_VIEW_METHODS:
        return set(ADMIN_VIEW_METHODS[name])
    return {"get", "post"} if "POST" in _consts(func) else {"get"}


def url_methods() -> dict[str, tuple[str, set[str]]]:
    """URL name -> (route, accepted methods) for every pattern."""
    return {name: (route, accepted_methods(pattern)) for name, route, pattern in walk_patterns()}


# --- the table --------------------------------------------------------------------------------

def load_entries() -> tuple[dict[str, dict[str, Check]], list[Callable[[Fixtures], None]]]:
    import tests.permissions as pkg

    rules: dict[str, dict[str, Check]] = {}
    builders: list[Callable[[Fixtures], None]] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("entries_"):
            continue
        module = importlib.import_module(f"tests.permissions.{info.name}")
        for name, methods in getattr(module, "RULES", {}).items():
            if name in rules:
                raise AssertionError(f"URL {name} has rules in two entries modules")
            rules[name] = methods
        if hasattr(module, "build"):
            builders.append(module.build)
    return rules, builders


# --- what a refused write must not change -----------------------------------------------------

# Tables a refused request may legitimately write: the event log records refusals and logins,
# sessions and tokens are the client's own.
_IGNORED = {"audit.event", "sessions.session", "authtoken.token", "authtoken.tokenproxy", "admin.logentry"}


def _tables() -> list[str]:
    tables = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in _IGNORED or model._meta.proxy or not model._meta.managed:
            continue
        tables.append(model._meta.db_table)
    return sorted(set(tables))


_FINGERPRINT_SQL: str | None = None


def fingerprint() -> tuple:
    """Row counts of every table, in one query: audited rows gain a history row on any change."""
    global _FINGERPRINT_SQL
    if _FINGERPRINT_SQL is None:
        q = connection.ops.quote_name
        _FINGERPRINT_SQL = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {q(t)})" for t in _tables())
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL)
        return tuple(cursor.fetchone())


def fingerprint_diff(before: tuple, after: tuple) -> list[str]:
    return [t for t, a, b in zip(_tables(), before, after, strict=True) if a != b]


# --- what a list shows ------------------------------------------------------------------------

def _pairs(value: Any, found: set[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list):
                _pairs(v, found)
            else:
                found.add((k, v))
    elif isinstance(value, list):
        for item in value:
            _pairs(item, found)


def response_shows(response: Any, token: Any) -> bool:
    if isinstance(token, tuple):
        found: set[tuple[str, Any]] = set()
        _pairs(json.loads(response.content), found)
        return token in found
    text = response.content.decode()
    return re.search(rf"(?<![\w-]){re.escape(str(token))}(?![\w-])", text) is not None


# --- the generic form API (one per form: list, create, detail, change, delete, history, status) ---

REASON = "Permission matrix check"


def version_body(name: str, **extra: Any) -> Kwargs:
    """A status change of form ``name``: the version read and a reason."""
    return lambda fx, where, user: {"expected_version": fx.fresh(name, where).version, "reason": REASON, **extra}


def form_api(slug: str, obj: str, *, read: dict[str, int | Own], write: set[str], create: Kwargs,
             change: dict[str, Any], submitted: bool = False) -> dict[str, dict[str, Check]]:
    """The rows of one form's API (``/api/v1/<slug>/``).

    ``read``: who reads the form (literal roles; ``Own(200)`` for site-scoped readers).
    ``write``: who enters it. A reader who may not enter it is refused (403), or, for another
    site's object it cannot see, gets 404. ``create(fx, where, user)`` is a valid new form for
    that site's participant; ``change`` a valid change of ``obj``. ``submitted``: ``obj`` is
    already submitted, so submitting it again succeeds and changes nothing. Deleting is refused to every
    reader (409: clinical data is never deleted, only retracted).
    """
    assert set(write) <= set(read), f"{slug}: writers must read"

    def at(code: int, roles: Any) -> dict[str, int | Own]:
        return {r: Own(code) if isinstance(read[r], Own) else code for r in roles}

    readers_only = [r for r in read if r not in write]
    detail = pk_of(obj)
    def shows(fx: Fixtures, where: str) -> tuple[str, Any]:
        return ("participant", fx.get(obj, where).participant_id)

    on_object = {**at(403, readers_only), **at(200, write)}
    return {
        f"{slug}-list": {
            "get": api(dict(read), shows=shows),
            "post": api({r: 403 for r in readers_only} | at(201, write), body=create),
        },
        f"{slug}-detail": {
            "get": api(dict(read), kwargs=detail),
            "patch": api(on_object, kwargs=detail, body=lambda fx, where, user: {**version_body(obj)(fx, where, user), **change}),
            "delete": api(at(409, read), kwargs=detail),
        },
        f"{slug}-history": {"get": api(dict(read), kwargs=detail)},
        f"{slug}-submit": {"post": api(on_object, kwargs=detail, body=version_body(obj), changes=not submitted)},
        f"{slug}-retract": {"post": api(on_object, kwargs=detail, body=version_body(obj))},
        f"{slug}-not-done": {"post": api(on_object, kwargs=detail, body=version_body(obj))},
    }
