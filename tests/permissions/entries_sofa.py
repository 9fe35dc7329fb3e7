"""The SOFA URLs: the SOFA day form API and the endpoint values."""

from __future__ import annotations

import datetime as dt

from ecrf.crf.models import Participant
from ecrf.crf.services import form_create
from ecrf.sofa.services import endpoint_derive
from ecrf.sofa.specs import SOFA_DAY
from tests.permissions.design import CASEBOOK, SITE_ENTRY
from tests.permissions.matrix import Check, Fixtures, Own, api, check, form_api


def build(fx: Fixtures) -> None:
    made = {}
    for where in ("own", "other"):
        site = fx.sites[where]
        p = Participant(site=site, screening_number=f"SOFA-{where}", subject_id=f"SOFA-{site.code}",
                        randomized_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
        p._change_reason = "matrix"
        p.save()
        form = form_create(actor=fx.get("author", where), spec=SOFA_DAY, participant=p, data={"day": 1, "platelets": 120, "gcs": 14})
        endpoint_derive(participant_id=p.pk)
        made[where] = (p, form)
    fx.add("sofa_participant", made["own"][0], made["other"][0])
    fx.add("sofa_day", made["own"][1], made["other"][1])


# Endpoint values are blinded clinical data: site staff (own site), monitors, data managers;
# never the sponsor (aggregates only) or the unblinded roles.
ENDPOINTS = {"investigator": Own(200), "coordinator": Own(200), "monitor": Own(200), "data_manager": 200}
# The score preview of the SOFA entry form: as entering the form, the site's staff who enter SOFA;
# the form's other readers are refused (403), everyone else cannot see the participant (404). It
# answers a fragment and writes nothing, for anyone (changes=False).
PREVIEW = {"investigator": Own(200), "coordinator": Own(200), "monitor": Own(403), "data_manager": 403,
           "safety_officer": 403}
RULES: dict[str, dict[str, Check]] = {
    "sofa:preview": {"post": check(PREVIEW, others=404, changes=False,
                                   kwargs=lambda fx, w, u: {"pk": fx.get("sofa_participant", w).pk},
                                   body=lambda fx, w, u: {"f-day": "2", "f-platelets": "45", "f-gcs": "9"})},
    **form_api("sofa", "sofa_day", read=CASEBOOK, write=SITE_ENTRY,
               create=lambda fx, w, u: {"participant": fx.get("sofa_participant", w).pk, "day": 2, "platelets": 100, "gcs": 15},
               change={"platelets": 110}),
    "sofa-endpoint-list": {"get": api(ENDPOINTS, shows=lambda fx, where: ("participant", fx.get("sofa_participant", where).pk))},
    "sofa-endpoint-detail": {"get": api(ENDPOINTS, kwargs=lambda fx, w, u: {"participant": fx.get("sofa_participant", w).pk})},
}
