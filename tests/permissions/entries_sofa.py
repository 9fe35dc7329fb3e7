"""Rules for the SOFA app's URLs: the SOFA day form API (/api/v1/sofa/) and the endpoints API."""

from __future__ import annotations

import datetime as dt

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create
from ecrf.sofa.selectors import ENDPOINT_READ_ROLES
from ecrf.sofa.services import endpoint_derive
from ecrf.sofa.specs import SOFA_DAY
from tests.permissions.matrix import Fixtures, Rule

SOFA_READ = CASEBOOK_READ_ROLES | {Role.DATA_MANAGER}
READERS_403 = {Role.MONITOR: 403, Role.SAFETY_OFFICER: 403, Role.DATA_MANAGER: 403}
API = {"anonymous": 401, "api": True}


def build(fx: Fixtures) -> None:
    made = {}
    for where in ("own", "other"):
        site = fx.sites[where]
        p = Participant(site=site, screening_number=f"SOFA-{where}", subject_id=f"SOFA-{site.code}",
                        randomized_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
        p._change_reason = "matrix"
        p.save()
        form = form_create(actor=fx.get("author", where), spec=SOFA_DAY, participant=p,
                           data={"day": 1, "platelets": 120, "gcs": 14})
        endpoint_derive(participant_id=p.pk)
        made[where] = (p, form)
    fx.add("sofa_participant", made["own"][0], made["other"][0])
    fx.add("sofa_day", made["own"][1], made["other"][1])


def sofa_day(fx, where, user):
    return {"pk": fx.get("sofa_day", where).pk}


def endpoint(fx, where, user):
    return {"participant": fx.get("sofa_participant", where).pk}


RULES: dict[str, Rule] = {
    "sofa-list": Rule(SOFA_READ, **API),
    "sofa-list#post": Rule(SITE_ENTRY_ROLES, method="post", ok=400, **API),
    "sofa-detail": Rule(SOFA_READ, kwargs=sofa_day, **API),
    "sofa-detail#patch": Rule(SITE_ENTRY_ROLES, method="patch", ok=400, kwargs=sofa_day, statuses=READERS_403, **API),
    "sofa-history": Rule(SOFA_READ, kwargs=sofa_day, **API),
    "sofa-submit": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=sofa_day, statuses=READERS_403, **API),
    "sofa-retract": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=sofa_day, statuses=READERS_403, **API),
    "sofa-not-done": Rule(SITE_ENTRY_ROLES, method="post", ok=400, kwargs=sofa_day, statuses=READERS_403, **API),
    # Endpoint values: site staff, monitors, data managers; never the sponsor or unblinded roles.
    "sofa-endpoint-list": Rule(ENDPOINT_READ_ROLES, **API),
    "sofa-endpoint-detail": Rule(ENDPOINT_READ_ROLES, kwargs=endpoint, **API),
}
