"""Rules for the screening URLs: the three forms' generic endpoints, the screening log, the
consent lifecycle, the lab import and the report."""

from __future__ import annotations

from decimal import Decimal

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.screening.imports import lab_import_csv
from ecrf.screening.selectors import REPORT_ROLES, SCREENING_LOG_ROLES
from ecrf.screening.specs import CENTRAL_LAB, CONSENT, LAB_READ_ROLES, SCREENING
from tests.permissions.matrix import Fixtures, Rule
from tests.support.screening import consent, lab, screen

API = {"anonymous": 401, "api": True}
LAB = frozenset({Role.LAB})
READERS_403 = {Role.MONITOR: 403, Role.SAFETY_OFFICER: 403, Role.DATA_MANAGER: 403}
LAB_READERS_403 = {r: 403 for r in CASEBOOK_READ_ROLES}


def build(fx: Fixtures) -> None:
    lab_user, _ = user_create(actor=None, username="matrix-lab", roles=[Role.LAB], password="Matrix-Password-2026")
    forms = {}
    for where in ("own", "other"):
        author, site = fx.get("author", where), fx.sites[where]
        screening = screen(author, site, f"M-{where}")
        record = consent(author, screening.participant)
        result = lab(lab_user, screening.participant, Decimal(6000), 9000)
        forms[where] = (screening, record, result)
    fx.add("screening", forms["own"][0], forms["other"][0])
    fx.add("consent", forms["own"][1], forms["other"][1])
    fx.add("lab_result", forms["own"][2], forms["other"][2])
    text = "site,screening_number,ferritin\nA,M-own,-1\n"
    record = lab_import_csv(actor=lab_user, filename="m.csv", content=text.encode())
    fx.add("lab_import", record, record)  # imports span every site


def _pk(name: str):
    return lambda fx, where, user: {"pk": fx.get(name, where).pk}


def _participant_of(name: str):
    return lambda fx, where, user: {"pk": fx.get(name, where).participant_id}


def _form_rules(slug: str, name: str, read: frozenset[str], write: frozenset[str], readers_403: dict[str, int]) -> dict[str, Rule]:
    kw = _pk(name)
    return {
        f"{slug}-list": Rule(read, **API),
        f"{slug}-list#post": Rule(write, method="post", ok=400, **API),
        f"{slug}-detail": Rule(read, kwargs=kw, **API),
        f"{slug}-detail#patch": Rule(write, method="patch", ok=400, kwargs=kw, statuses=readers_403, **API),
        f"{slug}-history": Rule(read, kwargs=kw, **API),
        f"{slug}-submit": Rule(write, method="post", ok=400, kwargs=kw, statuses=readers_403, **API),
        f"{slug}-retract": Rule(write, method="post", ok=400, kwargs=kw, statuses=readers_403, **API),
        f"{slug}-not-done": Rule(write, method="post", ok=400, kwargs=kw, statuses=readers_403, **API),
    }


CONSENT_PAGE = {"kwargs": _pk("consent"), "denied": 404, "statuses": READERS_403}
RULES: dict[str, Rule] = {
    **_form_rules(SCREENING.slug, "screening", CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, READERS_403),
    **_form_rules(CONSENT.slug, "consent", CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, READERS_403),
    **_form_rules(CENTRAL_LAB.slug, "lab_result", LAB_READ_ROLES, LAB, LAB_READERS_403),
    "screening-log-list": Rule(SCREENING_LOG_ROLES, **API),
    "screening-log-list#post": Rule(SITE_ENTRY_ROLES, method="post", ok=400, **API),
    "consent-lifecycle-patient-decision": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=_pk("consent"),
                                               statuses=READERS_403, **API),
    "consent-lifecycle-withdraw": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=_pk("consent"),
                                       statuses=READERS_403, **API),
    "lab-import-list": Rule(LAB, **API),
    "lab-import-list#post": Rule(LAB, method="post", ok=400, **API),
    "lab-import-detail": Rule(LAB, kwargs=_pk("lab_import"), site_scoped=False, **API),
    "screening-report-list": Rule(REPORT_ROLES, **API),
    # --- pages ---
    "screening:log": Rule(SCREENING_LOG_ROLES),
    "screening:new": Rule(SITE_ENTRY_ROLES),
    "screening:detail": Rule(SCREENING_LOG_ROLES, kwargs=_participant_of("screening")),
    "screening:consent-decision": Rule(SITE_ENTRY_ROLES, **CONSENT_PAGE),
    "screening:consent-withdraw": Rule(SITE_ENTRY_ROLES, **CONSENT_PAGE),
    "screening:lab-import": Rule(LAB),
    "screening:report": Rule(REPORT_ROLES),
}
