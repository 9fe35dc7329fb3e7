"""The safety URLs: the AE form API, SAE reports, clocks, adjudication, and the safety pages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ecrf.accounts.services import user_create
from ecrf.crf.services import form_create
from safety.meddra import ensure_demo_dictionary
from safety.models import Adjudication, AdjudicationReview, Clock, ExpeditedAssessment, SAEReport
from safety.services import sae_report_submit
from safety.specs import AE_SPEC
from tests.conftest import PASSWORD
from tests.permissions.entries_randomization import ensure_randomized
from tests.permissions.design import CASEBOOK, SITE_ENTRY
from tests.permissions.matrix import Check, Fixtures, Own, api, check, form_api, pk_of

SERIOUS = {"verbatim_term": "Melaena", "llt_code": 94000004, "onset_date": dt.date(2025, 6, 1), "grade": 3, "outcome": "recovering",
           "aware_at": dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC), "serious": True, "serious_hospitalisation": True,
           "causality_iv": "possible", "causality_sc": "unlikely"}
MILD = {"verbatim_term": "Headache", "llt_code": 94000004, "onset_date": dt.date(2025, 6, 2), "grade": 1, "outcome": "recovered",
        "aware_at": dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC), "serious": False, "causality_iv": "unlikely", "causality_sc": "unlikely"}


def build(fx: Fixtures) -> None:
    ensure_randomized(fx)
    ensure_demo_dictionary()
    aes = [form_create(actor=fx.get("author", w), spec=AE_SPEC, participant=fx.get("participant", w), data=SERIOUS, submit=True)
           for w in ("own", "other")]
    fx.add("ae", *aes)
    fx.add("report", *[SAEReport.objects.get(adverse_event=ae, sequence=0) for ae in aes])
    fx.add("clock", *[Clock.objects.get(adverse_event=ae, kind="sae_initial") for ae in aes])
    officer, _ = user_create(actor=None, username="matrix-officer", roles=["safety_officer"], site_codes=[], password="x-Password-123")
    # Potential SUSARs of randomized participants: pharmacovigilance may unblind each.
    susars = [form_create(actor=fx.get("author", w), spec=AE_SPEC, participant=fx.get("randomized", w),
                          data={**SERIOUS, "verbatim_term": "Hepatitis"}, submit=True) for w in ("own", "other")]
    cases = [ExpeditedAssessment.objects.create(adverse_event=ae, product="anakinra", route="iv", related=True, expected=False,
                                                rsi_reference="IB", sponsor_aware_at=ae.aware_at, assessed_by=officer,
                                                status="potential_susar") for ae in susars]
    fx.add("case", *cases)
    # An SAE of a randomized participant (phenotype known) whose initial report has been sent:
    # the safety officer may assess its expectedness and ask for follow-up.
    sent = []
    for where in ("own", "other"):
        ae = form_create(actor=fx.get("author", where), spec=AE_SPEC, participant=fx.get("randomized", where),
                         data={**SERIOUS, "verbatim_term": "Haematemesis"}, submit=True)
        report = SAEReport.objects.get(adverse_event=ae, sequence=0)
        sae_report_submit(actor=fx.get("author", where), report=report, version=report.version,
                          submitted_at=timezone.now() - dt.timedelta(hours=1), recipient="Sponsor", reference=f"S-{where}")
        sent.append((ae, report))
    fx.add("ae_sent", sent[0][0], sent[1][0])
    fx.add("report_sent", sent[0][1], sent[1][1])
    adjs = [Adjudication.objects.get(adverse_event=ae) for ae in aes]
    fx.add("adjudication", *adjs)
    # A pending review by another reviewer: no other reviewer may open it.
    fx.add("review", *[AdjudicationReview.objects.create(adjudication=a, round=1, reviewer=officer, serious=True, related_iv=True,
                                                         related_sc=False, expected=False, llt_code=94000004, special_interest="bleeding")
                       for a in adjs])


def ae_create(fx, where, user):  # noqa: ANN001, ANN201
    return {"participant": fx.get("participant", where).pk, **MILD}


def submission(fx, where, user):  # noqa: ANN001, ANN201
    return {"expected_version": fx.fresh("report", where).version, "submitted_at": timezone.now() - dt.timedelta(minutes=5),
            "recipient": "Sponsor safety desk", "reference": f"CASE-{where}"}


def submission_page(fx, where, user):  # noqa: ANN001, ANN201
    body = submission(fx, where, user)
    return {**body, "submitted_at": timezone.localtime(body["submitted_at"]).strftime("%Y-%m-%dT%H:%M")}


REVIEW = {"serious": "yes", "related_iv": "yes", "related_sc": "no", "expected": "no", "llt_code": 94000004,
          "special_interest": "bleeding"}
# ARCHITECTURE.md: site staff report AEs and record the SAE report's submission; the safety officer
# (all sites) manages clocks, assesses expectedness, asks follow-up questions and adjudicates;
# pharmacovigilance works on single SUSAR candidates.
SAFETY_OFFICER = {"safety_officer": 200}
PV = {"pharmacovigilance": 200}
# Readers who are not site staff are refused by role before the report is looked up (403 at any site).
SITE_SUBMIT = {"investigator": Own(200), "coordinator": Own(200), "monitor": 403, "data_manager": 403, "safety_officer": 403}
ADJ = {"per_site": False}  # adjudication is central and blinded to the site: the same for both sites' cases
RULES: dict[str, dict[str, Check]] = {
    **form_api("adverse-events", "ae", read=CASEBOOK, write=SITE_ENTRY, create=ae_create, change={"grade": 2}, submitted=True),
    "sae-reports-list": {"get": api(CASEBOOK, shows=lambda fx, where: ("participant", fx.get("participant", where).pk))},
    "sae-reports-detail": {"get": api(CASEBOOK, kwargs=pk_of("report"))},
    "sae-reports-submit": {"post": api(SITE_SUBMIT, kwargs=pk_of("report"), body=submission)},
    "sae-reports-request-followup": {"post": api({"safety_officer": 201}, kwargs=pk_of("report_sent"),
                                                 body=lambda fx, w, u: {"question": "Transfusions given?"})},
    # Pharmacovigilance sees SUSAR-candidate clocks only: not this SAE clock (404).
    "clocks-list": {"get": api({**CASEBOOK, "pharmacovigilance": 200})},
    "clocks-detail": {"get": api({**CASEBOOK, "pharmacovigilance": 404}, kwargs=pk_of("clock"))},
    "adjudications-list": {"get": api(SAFETY_OFFICER)},
    "adjudications-detail": {"get": api(SAFETY_OFFICER, kwargs=pk_of("adjudication"), **ADJ)},
    # No review of mine yet: 404; a valid review is recorded (201).
    "adjudications-review": {"get": api({"safety_officer": 404}, kwargs=pk_of("adjudication"), **ADJ),
                             "post": api({"safety_officer": 201}, kwargs=pk_of("adjudication"), body=lambda fx, w, u: REVIEW, **ADJ)},
    # Another reviewer's pending review: 404 for every reviewer, 403 for other roles.
    "adjudications-review-detail": {"get": api({"safety_officer": 404}, **ADJ,
                                               kwargs=lambda fx, w, u: {"pk": fx.get("adjudication", w).pk,
                                                                        "review_id": fx.get("review", w).pk})},
    # --- pages ---
    "safety:ae-list": {"get": check(CASEBOOK, shows=lambda fx, where: fx.get("participant", where).screening_number)},
    "safety:ae-detail": {"get": check(CASEBOOK, kwargs=pk_of("ae"))},
    "safety:assess": {"get": check(SAFETY_OFFICER, kwargs=pk_of("ae_sent")),
                      "post": check({"safety_officer": 302}, kwargs=pk_of("ae_sent"),
                                    body=lambda fx, w, u: {"expected": "no", "rsi_reference": "IB v3",
                                                           "sponsor_aware_at": "2025-06-01T12:00"})},
    "safety:followup-request": {"post": check({"safety_officer": 302}, kwargs=pk_of("ae_sent"),
                                              body=lambda fx, w, u: {"question": "Transfusions given?"})},
    "safety:report-submit": {"post": check({**SITE_SUBMIT, "investigator": Own(302), "coordinator": Own(302)},
                                           kwargs=pk_of("report"), body=submission_page)},
    "safety:coding": {"get": check(CASEBOOK)},
    "safety:clock-board": {"get": check({**SAFETY_OFFICER, **PV})},
    "safety:case-list": {"get": check(PV)},
    # Pharmacovigilance unblinds one SUSAR candidate (re-authenticating) and decides it.
    "safety:case-detail": {"get": check(PV, kwargs=pk_of("case"), **ADJ),
                           "post": check({"pharmacovigilance": 302}, kwargs=pk_of("case"), **ADJ,
                                         body=lambda fx, w, u: {"step": "unblind", "reason": "Potential SUSAR", "password": PASSWORD})},
    "safety:adjudication-queue": {"get": check(SAFETY_OFFICER)},
    "safety:adjudication-form": {"get": check(SAFETY_OFFICER, kwargs=pk_of("adjudication"), **ADJ),
                                 "post": check({"safety_officer": 302}, kwargs=pk_of("adjudication"), body=lambda fx, w, u: REVIEW, **ADJ)},
    "safety:review-detail": {"get": check({"safety_officer": 404}, **ADJ,
                                          kwargs=lambda fx, w, u: {"pk": fx.get("adjudication", w).pk, "review_id": fx.get("review", w).pk})},
}
