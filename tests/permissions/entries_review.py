"""The review URLs: the lock console and the locks API with the study-lock gate, source data
verification, verification progress, and signing.

ARCHITECTURE.md "Roles": data managers freeze, lock and unlock (all sites); monitors verify
source data at their assigned sites, data managers at every site; investigators sign their own
site's casebooks. The casebook's site readers (investigators, coordinators) and monitors read
verifications and signatures of their own site; data managers of every site.
"""

from __future__ import annotations

import datetime as dt

from ecrf.accounts.services import user_create
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create
from ecrf.review import selectors
from ecrf.review.services import scope_freeze
from tests.conftest import PASSWORD
from tests.permissions.matrix import REASON, Check, Fixtures, Own, api, check, pk_of
from tests.testapp.specs import VITALS

DM = {"data_manager": 200}
# Who reads verifications and signatures (site staff and monitors at their own site).
READERS = {"investigator": Own(200), "coordinator": Own(200), "monitor": Own(200), "data_manager": 200}


def build(fx: Fixtures) -> None:
    manager, _ = user_create(actor=None, username="matrix-review-dm", roles=["data_manager"], site_codes=[],
                             password=PASSWORD)
    reviewed, frozen, forms = {}, {}, {}
    for n, where in enumerate(("own", "other")):
        site = fx.sites[where]
        p = Participant(site=site, screening_number=f"{site.code}-REV1")
        p._change_reason = "Created for the matrix"
        p.save()
        reviewed[where] = p
        forms[where] = form_create(actor=fx.get("author", where), spec=VITALS, participant=p, submit=True,
                                   data={"measured_on": dt.date(2026, 10, 1 + n), "temperature": "37.5", "heart_rate": 72})
        q = Participant(site=site, screening_number=f"{site.code}-REV2")
        q._change_reason = "Created for the matrix"
        q.save()
        frozen[where] = scope_freeze(actor=manager, level="participant", participant=q, reason="Matrix freeze")
    fx.add("review_participant", reviewed["own"], reviewed["other"])
    fx.add("review_vitals", forms["own"], forms["other"])
    fx.add("review_scope", frozen["own"], frozen["other"])


def _participant(fx, where, user):  # noqa: ANN001, ANN202
    return {"participant": fx.get("review_participant", where).pk}


def _lock_body(fx, where, user):  # noqa: ANN001, ANN202
    return {"kind": "freeze", "level": "participant", "participant": fx.get("review_participant", where).pk, "reason": REASON}


def _verify_body(fx, where, user):  # noqa: ANN001, ANN202
    form = fx.fresh("review_vitals", where)
    return {"form": VITALS.slug, "form_id": form.pk, "expected_version": form.version}


def _verify_page(fx, where, user):  # noqa: ANN001, ANN202
    form = fx.fresh("review_vitals", where)
    return {"form_slug": VITALS.slug, "form_id": form.pk, "expected_version": form.version}


def _verify_fields(fx, where, user):  # noqa: ANN001, ANN202
    return {**_verify_page(fx, where, user), "scope": "fields", "fields": ["temperature", "heart_rate"]}


def _form_ref(fx, where, user):  # noqa: ANN001, ANN202
    return {"form_slug": VITALS.slug, "form_id": fx.get("review_vitals", where).pk}


def _sign_form_page(fx, where, user):  # noqa: ANN001, ANN202
    return {**_form_ref(fx, where, user), "meaning": "approve", "password": PASSWORD,
            "expected": fx.fresh("review_vitals", where).version}


def _expected(fx, where):  # noqa: ANN001, ANN202
    p = fx.get("review_participant", where)
    return selectors.casebook_states([p.pk])[p.pk].manifest_hash


def _sign_body(fx, where, user):  # noqa: ANN001, ANN202
    return {"participant": fx.get("review_participant", where).pk, "meaning": "approve", "password": PASSWORD,
            "expected": _expected(fx, where)}


def _sign_page(fx, where, user):  # noqa: ANN001, ANN202
    return {"meaning": "approve", "password": PASSWORD, "expected": _expected(fx, where)}


def _unlock(fx, where, user):  # noqa: ANN001, ANN202
    return {"reason": REASON}


RULES: dict[str, dict[str, Check]] = {
    "locks-list": {"get": api(DM), "post": api({"data_manager": 201}, body=_lock_body)},
    "locks-detail": {"get": api(DM, kwargs=pk_of("review_scope"))},
    "locks-unlock": {"post": api(DM, kwargs=pk_of("review_scope"), body=_unlock)},
    "locks-gate": {"get": api(DM)},
    "verifications-list": {
        "get": api(READERS, body=_participant),
        # Monitors of the form's site and data managers; others are refused before the form is looked up.
        "post": api({"monitor": Own(201), "data_manager": 201}, body=_verify_body),
    },
    "signatures-list": {
        "get": api(READERS, body=_participant),
        "post": api({"investigator": Own(201)}, body=_sign_body),
    },
    "review:locks": {"get": check(DM), "post": check({"data_manager": 302}, body=_lock_body)},
    "review:unlock": {"post": check({"data_manager": 302}, kwargs=pk_of("review_scope"), body=_unlock)},
    "review:progress": {"get": check({"monitor": 200, "data_manager": 200})},
    "review:participant-sdv": {
        "get": check({"monitor": Own(200), "data_manager": 200}, kwargs=pk_of("review_participant")),
        "post": check({"monitor": Own(302), "data_manager": 302}, kwargs=pk_of("review_participant"), body=_verify_page),
        # Some fields of the form (the ticked ones): the same people.
        "post fields": check({"monitor": Own(302), "data_manager": 302}, kwargs=pk_of("review_participant"),
                             body=_verify_fields),
    },
    "review:sign": {
        "get": check({"investigator": Own(200)}, kwargs=pk_of("review_participant")),
        "post": check({"investigator": Own(302)}, kwargs=pk_of("review_participant"), body=_sign_page),
        # One form of the casebook (?form_slug=&form_id=): the site's investigators.
        "get form": check({"investigator": Own(200)}, kwargs=pk_of("review_participant"), body=_form_ref),
        "post form": check({"investigator": Own(302)}, kwargs=pk_of("review_participant"), body=_sign_form_page),
    },
}
