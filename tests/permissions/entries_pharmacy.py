"""The pharmacy URLs: the site's pharmacists only (unblinded), their own sites only."""

from __future__ import annotations

from ecrf.accounts.services import user_create
from ecrf.pharmacy.services import preparation_record
from ecrf.pharmacy.supply import PharmacyPreparation
from ecrf.randomization.models import Assignment
from ecrf.study.protocol import DEFAULT_PROTOCOL
from tests.permissions.entries_randomization import ensure_randomized
from tests.permissions.matrix import Check, Fixtures, Own, api, check, pk_of

PRODUCTS: dict[str, str] = {}


def build(fx: Fixtures) -> None:
    ensure_randomized(fx)
    preps = {}
    for where in ("own", "other"):
        p = fx.get("randomized", where)
        pharmacist, _ = user_create(actor=None, username=f"matrix-pharmacist-{where}", roles=["pharmacist"],
                                    site_codes=[fx.sites[where].code], password="Matrix-Password-2026")
        a = Assignment.objects.select_related("slot").get(participant_id=p.pk)
        iv, _sc = PharmacyPreparation().requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=DEFAULT_PROTOCOL)
        PRODUCTS[where] = iv.product
        preps[where] = preparation_record(actor=pharmacist, participant=p, route="iv", product=iv.product, lot="M1")
    fx.add("preparation", preps["own"], preps["other"])


def prepare(fx, where, user):  # noqa: ANN001, ANN201
    return {"participant": fx.get("randomized", where).pk, "route": "iv", "product": PRODUCTS[where], "lot": "M2"}


# ARCHITECTURE.md: "that site's pharmacists" see one participant's assignment and record preparation.
PHARMACIST = {"pharmacist": Own(200)}
def shows(fx: Fixtures, where: str) -> tuple[str, int]:
    return ("participant", fx.get("randomized", where).pk)


RULES: dict[str, dict[str, Check]] = {
    "preparation-list": {"get": api(PHARMACIST, shows=shows),
                         "post": api({"pharmacist": Own(201)}, body=prepare)},
    "preparation-worklist": {"get": api(PHARMACIST, shows=shows)},
    "preparation-detail": {"get": api(PHARMACIST, kwargs=pk_of("preparation"))},
    "pharmacy:worklist": {"get": check(PHARMACIST, shows=lambda fx, where: fx.get("randomized", where).subject_id)},
    "pharmacy:participant": {"get": check(PHARMACIST, kwargs=pk_of("randomized")),
                             "post": check({"pharmacist": Own(302)}, kwargs=pk_of("randomized"),
                                           body=lambda fx, w, u: {k: v for k, v in prepare(fx, w, u).items() if k != "participant"})},
}
