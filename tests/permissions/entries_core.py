"""Rules for the foundation's URLs: pages, API, admin."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, PARTICIPANT_LIST_ROLES, SITE_ENTRY_ROLES, STAFF_ROLES, Role
from ecrf.audit.models import Event
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_create
from ecrf.notifications.models import Notification
from tests.permissions.matrix import ALL_ROLES, Fixtures, Rule
from tests.testapp.specs import VITALS

EVERYONE = frozenset(ALL_ROLES)
VITALS_READ = CASEBOOK_READ_ROLES | {Role.DATA_MANAGER}


def build(fx: Fixtures) -> None:
    own, other = fx.get("participant", "own"), fx.get("participant", "other")
    author_a, author_b = fx.get("author", "own"), fx.get("author", "other")
    fx.add("vitals",
           form_create(actor=author_a, spec=VITALS, participant=own, data={"measured_on": dt.date(2026, 11, 1), "temperature": 37, "heart_rate": 80}),
           form_create(actor=author_b, spec=VITALS, participant=other, data={"measured_on": dt.date(2026, 11, 1), "temperature": 37, "heart_rate": 80}))
    fx.add("lockscope", LockScope.objects.create(level="participant", kind="freeze", participant=fx.get("participant", "own"),
                                                 released_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), None)


def participant(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.get("participant", where).pk}


def vitals(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.get("vitals", where).pk}


def vitals_page(fx, where, user):  # noqa: ANN001, ANN201
    return {"slug": VITALS.slug, "form_id": fx.get("vitals", where).pk}


def own_notification(fx, where, user):  # noqa: ANN001, ANN201
    recipient = user if where == "own" else fx.get("author", "other")
    note, _ = Notification.objects.get_or_create(recipient=recipient, kind="test", source=f"matrix:{recipient.pk}",
                                                 defaults={"subject": "Test", "delivered_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    return {"pk": note.public_id}


def site(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.sites[where].pk}


API = {"anonymous": 401, "api": True}
# Roles that read the form but may not change it through the API (403, or 404 at another site).
READERS_403 = {Role.MONITOR: 403, Role.SAFETY_OFFICER: 403, Role.DATA_MANAGER: 403}
RULES: dict[str, Rule] = {
    # --- API ---
    "api-root": Rule(EVERYONE, **API),
    "schema": Rule(EVERYONE, **API),
    "site-list": Rule(EVERYONE, **API),
    "site-detail": Rule(EVERYONE, kwargs=site, site_scoped=False, **API),
    "notification-list": Rule(EVERYONE, **API),
    # Another user's notification is not visible to anybody else.
    "notification-detail": Rule(EVERYONE, kwargs=own_notification, site_scoped=False,
                                statuses_other={r: 404 for r in ALL_ROLES}, **API),
    "notification-read": Rule(EVERYONE, method="post", kwargs=own_notification, site_scoped=False,
                              statuses_other={r: 404 for r in ALL_ROLES}, **API),
    "participant-list": Rule(PARTICIPANT_LIST_ROLES, **API),
    "participant-detail": Rule(PARTICIPANT_LIST_ROLES, kwargs=participant, **API),
    "participant-history": Rule(PARTICIPANT_LIST_ROLES, kwargs=participant, **API),
    "test-vitals-list": Rule(VITALS_READ, **API),
    # POST {} to the list: writers get 400 (no data), readers 403.
    "test-vitals-list#post": Rule(SITE_ENTRY_ROLES, method="post", ok=400, **API),
    "test-vitals-detail": Rule(VITALS_READ, kwargs=vitals, **API),
    "test-vitals-detail#patch": Rule(SITE_ENTRY_ROLES, method="patch", ok=400, kwargs=vitals,
                                     statuses=READERS_403, **API),
    "test-vitals-history": Rule(VITALS_READ, kwargs=vitals, **API),
    "test-vitals-submit": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=vitals, statuses=READERS_403, **API),
    "test-vitals-retract": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=vitals, statuses=READERS_403, **API),
    "test-vitals-not-done": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=vitals, statuses=READERS_403, **API),
    # --- pages ---
    "api-docs": Rule(EVERYONE, anonymous=401),
    "home:home": Rule(EVERYONE),
    "core:healthz": Rule(EVERYONE, anonymous=200),
    "accounts:login": Rule(frozenset(), denied=302, anonymous=200),  # signed-in users are sent home
    "accounts:logout": Rule(EVERYONE, method="post", ok=302, anonymous=302, ends_session=True),
    "notifications:inbox": Rule(EVERYONE),
    "notifications:mark-read": Rule(EVERYONE, method="post", ok=302, kwargs=own_notification, site_scoped=False,
                                    statuses_other={r: 404 for r in ALL_ROLES}),
    "crf:participant-list": Rule(PARTICIPANT_LIST_ROLES),
    "crf:participant-detail": Rule(PARTICIPANT_LIST_ROLES, kwargs=participant, denied=404),
    "crf:participant-history": Rule(PARTICIPANT_LIST_ROLES, kwargs=participant, denied=404),
    "crf:form-new": Rule(SITE_ENTRY_ROLES, kwargs=lambda fx, w, u: {"pk": fx.get("participant", w).pk, "slug": VITALS.slug},
                         statuses={Role.MONITOR: 403, Role.DATA_MANAGER: 403, Role.SAFETY_OFFICER: 403, Role.PHARMACIST: 404, Role.LAB: 404},
                         denied=404),
    "crf:form-detail": Rule(VITALS_READ, kwargs=vitals_page),
    "crf:form-history": Rule(VITALS_READ, kwargs=vitals_page, denied=404),
    "crf:form-status": Rule(VITALS_READ, kwargs=lambda fx, w, u: {**vitals_page(fx, w, u), "action": "retract"}, denied=404),
}
# A retraction page renders for readers; the POST itself is refused to non-writers by the service.

_ADMIN_STAFF_PAGES = {"admin:index", "admin:password_change", "admin:password_change_done", "admin:jsi18n", "admin:autocomplete"}


def _admin_roles(model_admin, view: str) -> frozenset[str]:  # noqa: ANN001
    view_roles = getattr(model_admin, "view_roles", frozenset()) | getattr(model_admin, "change_roles", frozenset())
    if not hasattr(model_admin, "view_roles"):  # the user admin: administrators only, no delete
        return frozenset() if view == "delete" else frozenset({Role.ADMIN})
    if view == "add":
        return getattr(model_admin, "add_roles", frozenset())
    if view == "delete":
        return frozenset()
    return view_roles


def _admin_object(model):  # noqa: ANN001, ANN202
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the matrix needs one {model.__name__} to open its admin pages"
    return obj.pk


def rule_for(name: str) -> Rule | None:
    """Admin URLs: non-staff are sent to the admin login; staff get what their role allows."""
    if name.startswith("<unnamed:admin/"):
        # Admin's redirect shims (object URL -> its change view) and catch-all: they only
        # redirect to named admin URLs, which are checked by name.
        return Rule(STAFF_ROLES)
    if not name.startswith("admin:"):
        return None
    not_staff = {r: 302 for r in ALL_ROLES if r not in STAFF_ROLES}
    if name in _ADMIN_STAFF_PAGES:
        ok = 200 if name != "admin:autocomplete" else 403  # autocomplete needs a model; refused without
        return Rule(STAFF_ROLES, ok=ok, statuses=not_staff, site_scoped=False)
    if name == "admin:login":
        return Rule(frozenset(), denied=200, statuses={r: 302 for r in STAFF_ROLES}, anonymous=200)
    if name == "admin:logout":
        return Rule(EVERYONE, method="post", ok=302, anonymous=302, site_scoped=False, ends_session=True)
    if name == "admin:view_on_site":
        return Rule(STAFF_ROLES, ok=404, statuses=not_staff, kwargs=lambda fx, w, u: {"content_type_id": 0, "object_id": 0}, site_scoped=False)
    if name == "admin:app_list":
        # The crf app's admin: data managers see it; administrators have nothing in it (404).
        return Rule(frozenset({Role.DATA_MANAGER}), statuses={**not_staff, Role.ADMIN: 404}, site_scoped=False,
                    kwargs=lambda fx, w, u: {"app_label": "crf"})
    if name == "admin:auth_user_password_change":
        return Rule(frozenset({Role.ADMIN}), statuses=not_staff, site_scoped=False,
                    kwargs=lambda fx, w, u: {"id": fx.get("author", "own").pk})
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            view = name[len(prefix):]
            roles = _admin_roles(model_admin, view)
            kwargs = None if view in {"changelist", "add"} else (lambda fx, w, u, m=model: {"object_id": _admin_object(m)})
            return Rule(roles, statuses=not_staff, kwargs=kwargs, site_scoped=False)
    return None


_ = (Event,)
