"""Rules for the safety app's URLs: AE API (generic form machinery) and the safety pages."""

from __future__ import annotations

import datetime as dt

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.crf.services import form_create
from safety.meddra import ensure_demo_dictionary
from safety.models import Adjudication, AdjudicationReview, Clock, ExpeditedAssessment, SAEReport
from safety.specs import AE_SPEC
from tests.permissions.matrix import Fixtures, Rule

AE_READ = CASEBOOK_READ_ROLES | {Role.DATA_MANAGER}
API = {"anonymous": 401, "api": True}
READERS_403 = {Role.MONITOR: 403, Role.SAFETY_OFFICER: 403, Role.DATA_MANAGER: 403}
SERIOUS = {"verbatim_term": "Melaena", "llt_code": 94000004, "onset_date": dt.date(2025, 6, 1), "grade": 3, "outcome": "recovering",
           "aware_at": dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC), "serious": True, "serious_hospitalisation": True,
           "causality_iv": "possible", "causality_sc": "unlikely"}


def build(fx: Fixtures) -> None:
    from django.contrib.auth import get_user_model

    from ecrf.accounts.services import user_create

    ensure_demo_dictionary()
    aes = [form_create(actor=fx.get("author", w), spec=AE_SPEC, participant=fx.get("participant", w), data=SERIOUS, submit=True)
           for w in ("own", "other")]
    fx.add("ae", *aes)
    fx.add("report", *[SAEReport.objects.get(adverse_event=ae, sequence=0) for ae in aes])
    fx.add("clock", *[Clock.objects.get(adverse_event=ae, kind="sae_initial") for ae in aes])
    officer, _ = user_create(actor=None, username="matrix-officer", roles=[Role.SAFETY_OFFICER], site_codes=[], password="x-Password-123")
    cases = [ExpeditedAssessment.objects.create(adverse_event=ae, product="anakinra", route="iv", related=True, expected=False,
                                                rsi_reference="IB", sponsor_aware_at=ae.aware_at, assessed_by=officer,
                                                status="potential_susar") for ae in aes]
    fx.add("case", *cases)
    adjs = [Adjudication.objects.get(adverse_event=ae) for ae in aes]
    fx.add("adjudication", *adjs)
    # A pending review by another reviewer: no other reviewer may open it.
    fx.add("review", *[AdjudicationReview.objects.create(adjudication=a, round=1, reviewer=officer, serious=True, related_iv=True,
                                                         related_sc=False, expected=False, llt_code=94000004, special_interest="bleeding")
                       for a in adjs])
    _ = get_user_model


def ae(fx, where, user):  # noqa: ANN001, ANN201
    return {"pk": fx.get("ae", where).pk}


def obj(name):  # noqa: ANN001, ANN201
    return lambda fx, where, user: {"pk": fx.get(name, where).pk}


ALL_SITES_SAFETY = {Role.SAFETY_OFFICER}
CLOCK_READ = AE_READ | {Role.PHARMACOVIGILANCE}
RULES: dict[str, Rule] = {
    # --- API (generic form machinery) ---
    "adverse-events-list": Rule(AE_READ, **API),
    "adverse-events-list#post": Rule(SITE_ENTRY_ROLES, method="post", ok=400, **API),
    "adverse-events-detail": Rule(AE_READ, kwargs=ae, **API),
    "adverse-events-detail#patch": Rule(SITE_ENTRY_ROLES, method="patch", ok=400, kwargs=ae, statuses=READERS_403, **API),
    "adverse-events-history": Rule(AE_READ, kwargs=ae, **API),
    "adverse-events-submit": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=ae, statuses=READERS_403, **API),
    "adverse-events-retract": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=ae, statuses=READERS_403, **API),
    "adverse-events-not-done": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=ae, statuses=READERS_403, **API),
    # --- safety API ---
    "sae-reports-list": Rule(AE_READ, **API),
    "sae-reports-detail": Rule(AE_READ, kwargs=obj("report"), **API),
    # An empty body: site staff get 400 naming the fields; readers may not record submissions.
    "sae-reports-submit": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=obj("report"), **API),
    # An empty body: 400 naming the question (safety officers).
    "sae-reports-request-followup": Rule(frozenset({Role.SAFETY_OFFICER}), method="post", ok=400, kwargs=obj("report"), **API),
    "clocks-list": Rule(CLOCK_READ, **API),
    # An SAE clock: pharmacovigilance sees SUSAR-candidate clocks only (404 for this one).
    "clocks-detail": Rule(CLOCK_READ, kwargs=obj("clock"), statuses={Role.PHARMACOVIGILANCE: 404}, **API),
    "adjudications-list": Rule(frozenset({Role.SAFETY_OFFICER}), **API),
    "adjudications-detail": Rule(frozenset({Role.SAFETY_OFFICER}), kwargs=obj("adjudication"), site_scoped=False, **API),
    # GET: no review of mine yet -> 404 for reviewers.
    "adjudications-review": Rule(frozenset(), kwargs=obj("adjudication"), statuses={Role.SAFETY_OFFICER: 404}, site_scoped=False, **API),
    "adjudications-review#post": Rule(frozenset({Role.SAFETY_OFFICER}), method="post", ok=400, kwargs=obj("adjudication"),
                                      site_scoped=False, **API),
    # Another reviewer's pending review: 404 (audited) for every reviewer, 403 for other roles.
    "adjudications-review-detail": Rule(frozenset(), kwargs=lambda fx, w, u: {"pk": fx.get("adjudication", w).pk,
                                                                               "review_id": fx.get("review", w).pk},
                                        statuses={Role.SAFETY_OFFICER: 404}, site_scoped=False, **API),
    # --- pages ---
    "safety:ae-list": Rule(CASEBOOK_READ_ROLES),
    "safety:ae-detail": Rule(CASEBOOK_READ_ROLES, kwargs=ae),
    "safety:assess": Rule(frozenset({Role.SAFETY_OFFICER}), kwargs=ae),
    # An empty POST: the safety officer gets the form back with the error (400).
    "safety:followup-request": Rule(frozenset({Role.SAFETY_OFFICER}), method="post", ok=400, kwargs=ae),
    # An empty POST: site staff get the form back with errors (400); others may not submit.
    "safety:report-submit": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=obj("report")),
    "safety:coding": Rule(CASEBOOK_READ_ROLES),
    "safety:clock-board": Rule(frozenset({Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE})),
    "safety:case-list": Rule(frozenset({Role.PHARMACOVIGILANCE})),
    "safety:case-detail": Rule(frozenset({Role.PHARMACOVIGILANCE}), kwargs=obj("case"), site_scoped=False),
    "safety:adjudication-queue": Rule(frozenset({Role.SAFETY_OFFICER})),
    "safety:adjudication-form": Rule(frozenset({Role.SAFETY_OFFICER}), kwargs=obj("adjudication"), site_scoped=False),
    # Another reviewer's pending review: 404 for every reviewer (and audited), 403 for other roles.
    "safety:review-detail": Rule(frozenset(), kwargs=lambda fx, w, u: {"pk": fx.get("adjudication", w).pk, "review_id": fx.get("review", w).pk},
                                 statuses={Role.SAFETY_OFFICER: 404}, site_scoped=False),
}
