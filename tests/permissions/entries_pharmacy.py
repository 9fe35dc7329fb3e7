"""Rules for pharmacy URLs: the site's pharmacists only (unblinded), own sites only."""

from __future__ import annotations

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.pharmacy.services import preparation_record
from ecrf.pharmacy.supply import PharmacyPreparation
from ecrf.randomization.models import Assignment
from ecrf.study.protocol import DEFAULT_PROTOCOL
from tests.permissions.entries_randomization import ensure_randomized
from tests.permissions.matrix import Fixtures, Rule

API = {"anonymous": 401, "api": True}
PHARM = frozenset({Role.PHARMACIST})


def build(fx: Fixtures) -> None:
    ensure_randomized(fx)
    preps = {}
    for where in ("own", "other"):
        p = fx.get("randomized", where)
        pharmacist, _ = user_create(actor=None, username=f"matrix-pharmacist-{where}", roles=[Role.PHARMACIST],
                                    site_codes=[fx.sites[where].code], password="Matrix-Password-2026")
        a = Assignment.objects.select_related("slot").get(participant_id=p.pk)
        iv, _sc = PharmacyPreparation().requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=DEFAULT_PROTOCOL)
        preps[where] = preparation_record(actor=pharmacist, participant=p, route="iv", product=iv.product, lot="M1")
    fx.add("preparation", preps["own"], preps["other"])


def _pk(name: str):
    return lambda fx, where, user: {"pk": fx.get(name, where).pk}


RULES: dict[str, Rule] = {
    "preparation-list": Rule(PHARM, **API),
    "preparation-list#post": Rule(PHARM, method="post", ok=400, **API),
    "preparation-worklist": Rule(PHARM, **API),
    "preparation-detail": Rule(PHARM, kwargs=_pk("preparation"), **API),
    "pharmacy:worklist": Rule(PHARM),
    "pharmacy:participant": Rule(PHARM, kwargs=_pk("randomized")),
}
