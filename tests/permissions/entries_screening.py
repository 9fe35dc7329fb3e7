"""The screening URLs: the three forms' APIs, the screening log, consent decisions and
withdrawal, the central-lab import and the screening report, and their pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ecrf.accounts.services import user_create
from ecrf.screening.imports import lab_import_csv
from tests.permissions.design import CASEBOOK, CENTRAL_LAB, SITE_ENTRY
from tests.permissions.matrix import REASON, Check, Fixtures, Own, api, check, form_api, pk_of
from tests.support.screening import consent, lab, screen, screening_data


def build(fx: Fixtures) -> None:
    lab_user, _ = user_create(actor=None, username="matrix-lab", roles=["lab"], password="Matrix-Password-2026")
    forms = {}
    for where in ("own", "other"):
        author, site = fx.get("author", where), fx.sites[where]
        screening = screen(author, site, f"M-{where}")
        record = consent(author, screening.participant)
        result = lab(lab_user, screening.participant, Decimal(6000), 9000)
        consented = screen(author, site, f"MC-{where}").participant
        consent(author, consented)
        forms[where] = (screening, record, result, screen(author, site, f"MB-{where}"), consented)
    fx.add("screening", forms["own"][0], forms["other"][0])
    fx.add("consent", forms["own"][1], forms["other"][1])
    fx.add("lab_result", forms["own"][2], forms["other"][2])
    # Screened with no consent and no lab result yet: the targets of valid creates.
    fx.add("screened_blank", forms["own"][3].participant, forms["other"][3].participant)
    # Consented, with no central-lab result yet.
    fx.add("consented_blank", forms["own"][4], forms["other"][4])
    record = lab_import_csv(actor=lab_user, filename="m.csv", content=b"site,screening_number,ferritin\nA,M-own,-1\n")
    fx.add("lab_import", record, record)  # imports span every site


def screening_create(fx, where, user):  # noqa: ANN001, ANN201
    return {"participant": fx.get("participant", where).pk, **screening_data()}


def consent_create(fx, where, user):  # noqa: ANN001, ANN201
    return {"participant": fx.get("screened_blank", where).pk, "consent_by": "patient", "decision": "given",
            "form_version": "v1.0", "consented_at": timezone.now() - dt.timedelta(hours=1)}


def lab_create(fx, where, user):  # noqa: ANN001, ANN201
    sampled = timezone.now() - dt.timedelta(minutes=60)
    return {"participant": fx.get("consented_blank", where).pk, "ferritin": "6100", "ferritin_sampled_at": sampled,
            "ferritin_resulted_at": sampled + dt.timedelta(minutes=30)}


def log_create(fx, where, user):  # noqa: ANN001, ANN201
    return {"site": fx.sites[where].code, "screening_number": f"NEW-{where}", **screening_data()}


def screening_page(**overrides):  # noqa: ANN003, ANN201
    """The screening page's fields (prefixed "f-"); False booleans are sent as "false"."""
    out = {}
    for key, value in screening_data(**overrides).items():
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[f"f-{key}"] = value
    return out


def withdraw_body(fx, where, user):  # noqa: ANN001, ANN201
    return {"expected_version": fx.fresh("consent", where).version, "withdrawal_type": "treatment",
            "withdrawn_on": timezone.localdate().isoformat(), "reason": REASON}


def lab_csv(fx, where, user):  # noqa: ANN001, ANN201
    sampled = (timezone.now() - dt.timedelta(minutes=30)).isoformat()
    resulted = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    text = (f"site,screening_number,ferritin,ferritin_sampled_at,ferritin_resulted_at\n"
            f"{fx.sites[where].code},MC-{where},6100,{sampled},{resulted}\n")
    return {"file": SimpleUploadedFile("lab.csv", text.encode(), content_type="text/csv")}


# The screening log: site staff (own site), monitors, data managers, safety officers (the casebook's
# readers) and the central lab, which matches its samples of every site to screening numbers.
SCREENING_LOG = {**CASEBOOK, "lab": 200}
# The screening report is aggregate and blinded (counts per site and phenotype, the CONSORT flow):
# every study role but the unblinded pharmacy and pharmacovigilance, and the administrator, who
# sees configuration only.
REPORT = {**SCREENING_LOG, "sponsor": 200, "statistician": 200, "dsmb": 200}
ENTRY_PAGE = {"investigator": Own(200), "coordinator": Own(200)}
RULES: dict[str, dict[str, Check]] = {
    **form_api("screenings", "screening", read=CASEBOOK, write=SITE_ENTRY, create=screening_create,
               change={"age": 65}, submitted=True),
    **form_api("consents", "consent", read=CASEBOOK, write=SITE_ENTRY, create=consent_create, change={"form_version": "v1.1"},
               submitted=True),
    # Screening central-lab results: entered by the lab for every site.
    **form_api("lab-results", "lab_result", read=CENTRAL_LAB, write={"lab"}, create=lab_create, change={"hla_dr": 9100},
               submitted=True),
    "screening-log-list": {
        "get": api(SCREENING_LOG, shows=lambda fx, where: ("participant", fx.get("screening", where).participant_id)),
        # Screening at a site that is not the user's own is refused (403: the site itself is public).
        "post": api({"monitor": 403, "data_manager": 403, "safety_officer": 403, "lab": 403, "investigator": Own(201, 403),
                     "coordinator": Own(201, 403)}, body=log_create),
    },
    # A patient who consented in person takes no later decision: refused by state (409) for site staff.
    "consent-lifecycle-patient-decision": {
        "post": api({"monitor": Own(403), "data_manager": 403, "safety_officer": 403, "investigator": Own(409),
                     "coordinator": Own(409)}, kwargs=pk_of("consent"),
                    body=lambda fx, w, u: {"expected_version": fx.fresh("consent", w).version, "decision": "confirmed",
                                           "decided_at": timezone.now() - dt.timedelta(minutes=5)})},
    "consent-lifecycle-withdraw": {
        "post": api({"monitor": Own(403), "data_manager": 403, "safety_officer": 403, "investigator": Own(200),
                     "coordinator": Own(200)}, kwargs=pk_of("consent"), body=withdraw_body)},
    "lab-import-list": {"get": api({"lab": 200}), "post": api({"lab": 201}, body=lab_csv, multipart=True, per_site=False)},
    "lab-import-detail": {"get": api({"lab": 200}, kwargs=pk_of("lab_import"), per_site=False)},
    "screening-report-list": {"get": api(REPORT)},
    # --- pages ---
    "screening:log": {"get": check(SCREENING_LOG, shows=lambda fx, where: f"M-{where}")},
    # A site's staff screen at their own site; another site is not offered: the form comes back (200).
    "screening:new": {
        "get": check(ENTRY_PAGE),
        "post": check({"investigator": Own(302, 200), "coordinator": Own(302, 200)}, changes={"own": True, "other": False},
                      body=lambda fx, w, u: {"site": fx.sites[w].code, "screening_number": f"PAGE-{w}", **screening_page()})},
    "screening:detail": {
        "get": check(SCREENING_LOG, kwargs=lambda fx, w, u: {"pk": fx.get("screening", w).participant_id}),
        "post": check({"monitor": Own(403), "data_manager": 403, "safety_officer": 403, "lab": 403, "investigator": Own(302),
                       "coordinator": Own(302)},
                      kwargs=lambda fx, w, u: {"pk": fx.get("screening", w).participant_id},
                      body=lambda fx, w, u: {**screening_page(age=66), "expected_version": fx.fresh("screening", w).version,
                                             "reason": REASON})},
    # The consent page's readers who may not record decisions are refused; others cannot see it (404).
    "screening:consent-decision": {
        "get": check({**ENTRY_PAGE, "monitor": Own(403), "data_manager": 403, "safety_officer": 403}, kwargs=pk_of("consent"), others=404),
        # The patient consented in person: no later decision to record, the page shows why (200) and nothing changes.
        "post": check({"investigator": Own(200), "coordinator": Own(200), "monitor": Own(403), "data_manager": 403,
                       "safety_officer": 403}, kwargs=pk_of("consent"), others=404, changes=False,
                      body=lambda fx, w, u: {"expected_version": fx.fresh("consent", w).version, "decision": "confirmed",
                                             "decided_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "reason": REASON})},
    "screening:consent-withdraw": {
        "get": check({**ENTRY_PAGE, "monitor": Own(403), "data_manager": 403, "safety_officer": 403}, kwargs=pk_of("consent"), others=404),
        "post": check({"investigator": Own(302), "coordinator": Own(302), "monitor": Own(403), "data_manager": 403,
                       "safety_officer": 403}, kwargs=pk_of("consent"), others=404,
                      body=lambda fx, w, u: {k: v for k, v in withdraw_body(fx, w, u).items()})},
    "screening:lab-import": {"get": check({"lab": 200}),
                             "post": check({"lab": 302}, per_site=False, body=lab_csv)},
    "screening:report": {"get": check(REPORT)},
}
