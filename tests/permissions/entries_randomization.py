"""Rules for randomization URLs: randomize and unblind (site staff, blinded), the statistician's
lists and study unblinding (unblinded, the statistician alone)."""

from __future__ import annotations

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role
from ecrf.accounts.services import user_create
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from tests.permissions.matrix import Fixtures, Rule
from tests.support.screening import eligible_participant

API = {"anonymous": 401, "api": True}
STAT = frozenset({Role.STATISTICIAN})
INV = frozenset({Role.INVESTIGATOR})


def ensure_randomized(fx: Fixtures) -> None:
    """A list and one randomized participant per site (shared with entries_pharmacy)."""
    if "randomized" in fx.objects:
        return
    statistician, _ = user_create(actor=None, username="matrix-statistician", roles=[Role.STATISTICIAN],
                                  password="Matrix-Password-2026")
    lab_user, _ = user_create(actor=None, username="matrix-lab-r", roles=[Role.LAB], password="Matrix-Password-2026")
    from ecrf.randomization.models import AllocationList

    record = AllocationList.objects.order_by("pk").first() or allocation_list_generate(
        actor=statistician, seed="matrix", slots_per_stratum=8)
    fx.add("allocation_list", record, record)
    done = {}
    for where in ("own", "other"):
        author = fx.get("author", where)
        p = eligible_participant(author, lab_user, fx.sites[where], f"R-{where}")
        participant_randomize(actor=author, participant=p)
        p.refresh_from_db()
        done[where] = p
    fx.add("randomized", done["own"], done["other"])


def build(fx: Fixtures) -> None:
    ensure_randomized(fx)


def participant(fx, where, user):
    return {"pk": fx.get("participant", where).pk}  # not screened: randomize and unblind get 409


def allocation_list(fx, where, user):
    return {"pk": fx.get("allocation_list", where).pk}


STAT_PAGE = {"site_scoped": False}
RULES: dict[str, Rule] = {
    "participant-randomization-randomize": Rule(SITE_ENTRY_ROLES, method="post", ok=409, kwargs=participant, **API),
    "participant-randomization-unblind": Rule(INV, method="post", ok=409, kwargs=participant, **API),
    "allocation-list-list": Rule(STAT, **API),
    "allocation-list-list#post": Rule(STAT, method="post", ok=400, **API),
    "allocation-list-import-list": Rule(STAT, method="post", ok=400, **API),
    "allocation-list-detail": Rule(STAT, kwargs=allocation_list, site_scoped=False, **API),
    "allocation-list-slots": Rule(STAT, kwargs=allocation_list, site_scoped=False, **API),
    "allocation-list-verify": Rule(STAT, kwargs=allocation_list, site_scoped=False, **API),
    "study-unblinding-list": Rule(STAT, **API),
    "study-unblinding-list#post": Rule(STAT, method="post", ok=409, **API),  # the study is not locked
    # --- pages ---
    "randomization:randomize": Rule(SITE_ENTRY_ROLES, kwargs=participant),
    "randomization:unblind": Rule(INV, kwargs=participant),
    "randomization:lists": Rule(STAT),
    "randomization:generate": Rule(STAT),
    "randomization:import": Rule(STAT),
    "randomization:list-detail": Rule(STAT, kwargs=allocation_list, **STAT_PAGE),
    "randomization:study-unblind": Rule(STAT),
}
