"""The foundation's URLs: API root and schema, sites, notifications, participants, the test
form's API and pages, login and logout, and the Django admin."""

from __future__ import annotations

import datetime as dt

from django.apps import apps

from ecrf.crf.models import LockScope
from ecrf.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.permissions.design import CASEBOOK, EVERYONE, PARTICIPANT_LIST, SITE_ENTRY
from tests.permissions.matrix import REASON, ROLES, Check, Fixtures, Own, api, check, form_api, pk_of, version_body
from tests.testapp.specs import VITALS


def build(fx: Fixtures) -> None:
    from ecrf.crf.services import form_create

    made = [form_create(actor=fx.get("author", w), spec=VITALS, participant=fx.get("participant", w),
                        data={"measured_on": dt.date(2026, 11, 1), "temperature": 37, "heart_rate": 80})
            for w in ("own", "other")]
    fx.add("vitals", *made)
    # A released freeze, so that the admin's lock-scope pages have an object to open.
    fx.add("lockscope", LockScope.objects.create(level="participant", kind="freeze", participant=fx.get("participant", "own"),
                                                 released_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), None)
    # A pending request for an unblinded role, so that the role-grant admin pages have an object.
    from ecrf.accounts.services import role_grant_request, user_create

    requester = user_create(actor=None, username="matrix-grant-admin", roles=["admin"], site_codes=[],
                            password="Correct-Horse-Battery-9", email="grant@example.org")[0]
    fx.add("rolegrant", role_grant_request(actor=requester, user=fx.get("author", "own"), role="statistician",
                                           reason="Matrix: a pending request"), None)


def own_notification(fx, where, user):  # noqa: ANN001, ANN201
    """The user's own notification ("own") or another user's ("other")."""
    recipient = user if where == "own" else fx.get("author", "other")
    note, _ = Notification.objects.get_or_create(recipient=recipient, kind="test", source=f"matrix:{recipient.pk}",
                                                 defaults={"subject": "Test", "delivered_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    return {"pk": note.public_id}


def site(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.sites[where].pk}


def vitals_create(fx, where, user):  # noqa: ANN001, ANN201
    return {"participant": fx.get("participant", where).pk, "measured_on": "2026-11-02", "temperature": "38.5", "heart_rate": 90}


def vitals_page(fx, where, user):  # noqa: ANN001, ANN201
    return {"slug": VITALS.slug, "form_id": fx.get("vitals", where).pk}


def vitals_page_body(fx, where, user):  # noqa: ANN001, ANN201
    return {"f-measured_on": "2026-11-01", "f-temperature": "39.0", "f-heart_rate": 95, **version_body("vitals")(fx, where, user)}


def login_body(fx, where, user):  # noqa: ANN001, ANN201
    return {"username": fx.get("author", "own").username, "password": PASSWORD}


ALL_OWN = {r: Own(200) for r in ROLES}  # a user's own notification: everyone; another user's: nobody (404)
# Readers of the test form who may not enter it, on the pages.
PAGE_READERS_ONLY = {"monitor": Own(403), "data_manager": 403, "safety_officer": 403}
PAGE_WRITERS = {r: Own(302) for r in SITE_ENTRY}
# Blinded form pages: roles outside the form's readers cannot see the participant (404).
NOT_VISIBLE = 404

RULES: dict[str, dict[str, Check]] = {
    # --- API ---
    "api-root": {"get": api(EVERYONE)},
    "schema": {"get": api(EVERYONE)},
    "site-list": {"get": api(EVERYONE, shows=lambda fx, where: ("code", fx.sites[where].code))},
    "site-detail": {"get": api(EVERYONE, kwargs=site)},
    "notification-list": {"get": api(EVERYONE)},
    "notification-detail": {"get": api(ALL_OWN, kwargs=own_notification)},
    # Marking read sets a time on the user's own notification; no row is added.
    "notification-read": {"post": api(ALL_OWN, kwargs=own_notification, changes=None)},
    "participant-list": {"get": api(PARTICIPANT_LIST, shows=lambda fx, where: ("id", fx.get("participant", where).pk))},
    "participant-detail": {"get": api(PARTICIPANT_LIST, kwargs=pk_of("participant"))},
    "participant-history": {"get": api(PARTICIPANT_LIST, kwargs=pk_of("participant"))},
    **form_api("test-vitals", "vitals", read=CASEBOOK, write=SITE_ENTRY, create=vitals_create, change={"heart_rate": 101}),
    # --- pages ---
    "api-docs": {"get": check(EVERYONE, anonymous=401)},
    "home:home": {"get": check(EVERYONE)},
    "core:healthz": {"get": check(EVERYONE, anonymous=200)},
    # Signed-in users are sent home; anonymous users get the form, and log in with valid credentials.
    "accounts:login": {
        "get": check(dict.fromkeys(ROLES, 302), anonymous=200),
        "post": check(dict.fromkeys(ROLES, 302), anonymous=302, body=login_body, changes=None),
        # A PUT body is not read as a form: the login page comes back (200) and nobody is logged in.
        "put": check(dict.fromkeys(ROLES, 302), anonymous=200, body=login_body, changes=False),
    },
    # The language switch: anyone, signed in or not, sets the cookie and is sent back; no row changes.
    "set_language": {"post": check(dict.fromkeys(ROLES, 302), anonymous=302, body=lambda fx, w, u: {"language": "el", "next": "/"},
                                   changes=False)},
    "accounts:logout": {"post": check(dict.fromkeys(ROLES, 302), anonymous=302, fresh_client=True, changes=None)},
    "notifications:inbox": {"get": check(EVERYONE)},
    "notifications:mark-read": {"post": check({r: Own(302) for r in ROLES}, kwargs=own_notification, changes=None)},
    "crf:participant-list": {"get": check(PARTICIPANT_LIST, shows=lambda fx, where: fx.get("participant", where).screening_number)},
    "crf:participant-detail": {"get": check(PARTICIPANT_LIST, kwargs=pk_of("participant"), others=NOT_VISIBLE)},
    "crf:participant-history": {"get": check(PARTICIPANT_LIST, kwargs=pk_of("participant"), others=NOT_VISIBLE)},
    "crf:form-new": {
        "get": check({**PAGE_READERS_ONLY, **{r: Own(200) for r in SITE_ENTRY}}, others=NOT_VISIBLE,
                     kwargs=lambda fx, w, u: {"pk": fx.get("participant", w).pk, "slug": VITALS.slug}),
        "post": check({**PAGE_READERS_ONLY, **PAGE_WRITERS}, others=NOT_VISIBLE,
                      kwargs=lambda fx, w, u: {"pk": fx.get("participant", w).pk, "slug": VITALS.slug},
                      body=lambda fx, w, u: {"f-measured_on": "2026-11-03", "f-temperature": "37.5", "f-heart_rate": 70}),
    },
    "crf:form-detail": {
        "get": check(CASEBOOK, kwargs=vitals_page),
        "post": check({**PAGE_READERS_ONLY, **PAGE_WRITERS}, kwargs=vitals_page, body=vitals_page_body),
    },
    "crf:form-history": {"get": check(CASEBOOK, kwargs=vitals_page, others=NOT_VISIBLE)},
    # Retracting or marking not done: the form's writers; its other readers are refused.
    "crf:form-status": {
        "get": check({**PAGE_READERS_ONLY, **{r: Own(200) for r in SITE_ENTRY}}, others=NOT_VISIBLE,
                     kwargs=lambda fx, w, u: {**vitals_page(fx, w, u), "action": "not-done"}),
        "post": check({**PAGE_READERS_ONLY, **PAGE_WRITERS}, others=NOT_VISIBLE,
                      kwargs=lambda fx, w, u: {**vitals_page(fx, w, u), "action": "not-done"},
                      body=version_body("vitals")),
    },
}

# --- the Django admin ---------------------------------------------------------------------------
# ARCHITECTURE.md: the administrator configures users, sites and roles and never edits clinical data;
# the data manager works in the admin's read-mostly clinical views (and corrects CRF data there,
# with a reason). Everybody else is sent to the admin's login page (302).
STAFF = {"admin", "data_manager"}
NOT_STAFF = {r: 302 for r in ROLES if r not in STAFF}
# model -> (who views its list, change page and history; who adds; who saves a change)
ADMIN_MODELS: dict[str, tuple[set[str], set[str], set[str]]] = {
    "study_site": ({"admin"}, {"admin"}, {"admin"}),
    "study_study": ({"admin"}, set(), {"admin"}),  # one study, configured, never added
    "accounts_user": ({"admin"}, {"admin"}, {"admin"}),
    "accounts_rolegrant": ({"admin"}, {"admin"}, set()),  # requested and decided, never edited
    "audit_event": ({"admin", "data_manager"}, set(), set()),  # append-only
    "crf_participant": ({"data_manager"}, set(), set()),
    "crf_lockscope": ({"data_manager"}, set(), set()),
    "screening_labimport": ({"data_manager"}, set(), set()),
}
# The CRF forms: data managers read and correct them; nobody adds or deletes one here.
for _model in ("screening_screening", "screening_consent", "screening_centrallabresult", "dosing_administration",
               "dosing_discontinuation", "labs_labpanel", "labs_centrallab", "medications_concomitantmedication",
               "outcomes_death", "outcomes_vitalstatus", "outcomes_newinfection", "outcomes_endofstudy",
               "deviations_deviation", "sofa_sofaday", "safety_adverseevent", "testapp_vitalsigns"):
    ADMIN_MODELS[_model] = ({"data_manager"}, set(), {"data_manager"})


def _admin_pk(label: str) -> int:
    app_label, model_name = label.split("_", 1)
    obj = apps.get_model(app_label, model_name)._default_manager.order_by("pk").first()
    assert obj is not None, f"the matrix needs one {label} to open its admin pages"
    return obj.pk


def admin_check(roles: dict[str, int | Own], **options) -> Check:  # noqa: ANN003
    return check(roles, per_site=False, **options)


def _staff(allowed: set[str], ok: int = 200) -> dict[str, int | Own]:
    return {**NOT_STAFF, **{r: 403 for r in STAFF}, **dict.fromkeys(allowed, ok)}


def _admin_rows(label: str, viewers: set[str], adders: set[str], changers: set[str]) -> dict[str, dict[str, Check]]:
    path = label.replace("_", "/", 1)
    obj = lambda fx, w, u, label=label: {"object_id": _admin_pk(label)}  # noqa: E731
    # Admin form POSTs carry no fields: an allowed role gets the form back with its errors (200).
    return {
        f"admin:{label}_changelist": {"get": admin_check(_staff(viewers)), "post": admin_check(_staff(viewers), changes=False)},
        f"admin:{label}_add": {"get": admin_check(_staff(adders)), "post": admin_check(_staff(adders), changes=False)},
        f"admin:{label}_change": {"get": admin_check(_staff(viewers), kwargs=obj),
                                  "post": admin_check({**_staff(viewers, 403), **dict.fromkeys(changers, 200)}, kwargs=obj, changes=False)},
        f"admin:{label}_history": {"get": admin_check(_staff(viewers), kwargs=obj)},
        # Nothing is deleted through the admin.
        f"admin:{label}_delete": {"get": admin_check(_staff(set()), kwargs=obj), "post": admin_check(_staff(set()), kwargs=obj)},
        # The bare object URL redirects: staff to the change page, everyone else to the login.
        f"<admin/{path}/<path:object_id>/>": {
            m: admin_check(dict.fromkeys(ROLES, 302), kwargs=lambda fx, w, u, label=label, path=path: {"url": f"/admin/{path}/{_admin_pk(label)}/"},
                     changes=False)
            for m in ("get", "post", "put", "patch", "delete")},
    }


RULES.update({
    "admin:index": {"get": admin_check(_staff(STAFF))},
    "admin:password_change": {"get": admin_check(_staff(STAFF)), "post": admin_check(_staff(STAFF), changes=False)},
    "admin:password_change_done": {"get": admin_check(_staff(STAFF))},
    "admin:jsi18n": {"get": admin_check(_staff(STAFF))},
    "admin:autocomplete": {"get": admin_check(_staff(set()))},  # without a model and field: refused
    # Staff already signed in are sent to the index; a wrong password is refused to everyone (200, the form).
    "admin:login": {"get": admin_check({**dict.fromkeys(ROLES, 200), **dict.fromkeys(STAFF, 302)}, anonymous=200),
                    "post": admin_check(dict.fromkeys(ROLES, 200), anonymous=200,
                                  body=lambda fx, w, u: {"username": "nobody", "password": "wrong"}, changes=None)},
    "admin:logout": {"post": admin_check(dict.fromkeys(ROLES, 302), anonymous=302, fresh_client=True, changes=None)},
    "admin:view_on_site": {"get": admin_check({**NOT_STAFF, "admin": 404, "data_manager": 404}, kwargs=lambda fx, w, u: {"content_type_id": 0, "object_id": 0})},
    "admin:app_list": {"get": admin_check({**_staff({"data_manager"}), "admin": 404}, kwargs=lambda fx, w, u: {"app_label": "crf"})},
    "admin:auth_user_password_change": {
        "get": admin_check(_staff({"admin"}), kwargs=lambda fx, w, u: {"id": fx.get("author", "own").pk}),
        "post": admin_check(_staff({"admin"}), kwargs=lambda fx, w, u: {"id": fx.get("author", "own").pk}, changes=False)},
    "<admin/(?P<url>.*)$>": {"get": admin_check({**NOT_STAFF, **dict.fromkeys(STAFF, 404)}, kwargs=lambda fx, w, u: {"url": "/admin/no-such-page/"})},
})
for _label, (_viewers, _adders, _changers) in ADMIN_MODELS.items():
    RULES.update(_admin_rows(_label, _viewers, _adders, _changers))

_ = REASON
