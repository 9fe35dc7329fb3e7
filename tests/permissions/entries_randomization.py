"""The randomization URLs: randomize and emergency unblinding (site staff, blinded), and the
statistician's allocation lists and study unblinding (unblinded, the statistician alone)."""

from __future__ import annotations

from ecrf.accounts.services import user_create
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from tests.conftest import PASSWORD
from tests.permissions.matrix import REASON, Check, Fixtures, Own, api, check, pk_of
from tests.support.screening import eligible_participant


def ensure_randomized(fx: Fixtures) -> None:
    """A list, one randomized and one eligible (not yet randomized) participant per site."""
    if "randomized" in fx.objects:
        return
    statistician, _ = user_create(actor=None, username="matrix-statistician", roles=["statistician"], password=PASSWORD)
    lab_user, _ = user_create(actor=None, username="matrix-lab-r", roles=["lab"], password=PASSWORD)
    from ecrf.randomization.models import AllocationList

    from ecrf.study.models import Site

    record = AllocationList.objects.order_by("pk").first() or allocation_list_generate(
        actor=statistician, seed="matrix", slots_per_stratum=8)
    # A site opened later, whose strata have no list yet: the statistician's new list covers them.
    Site.objects.get_or_create(code="C", defaults={"name": "Site C", "country": "DE", "time_zone": "Europe/Berlin"})
    fx.add("allocation_list", record, record)
    done, eligible = {}, {}
    for where in ("own", "other"):
        author = fx.get("author", where)
        p = eligible_participant(author, lab_user, fx.sites[where], f"R-{where}")
        participant_randomize(actor=author, participant=p)
        p.refresh_from_db()
        done[where] = p
        eligible[where] = eligible_participant(author, lab_user, fx.sites[where], f"E-{where}")
    fx.add("randomized", done["own"], done["other"])
    fx.add("eligible", eligible["own"], eligible["other"])


def build(fx: Fixtures) -> None:
    ensure_randomized(fx)


# ARCHITECTURE.md: coordinators randomize, investigators do everything coordinators do; only an
# investigator unblinds one participant, in an emergency; the statistician alone handles lists.
RANDOMIZERS = {"investigator": Own(200), "coordinator": Own(200)}
STATISTICIAN = {"statistician": 200}
UNBLIND_BODY = {"reason": "Medical emergency: anaphylaxis", "password": PASSWORD}
STAT = {"per_site": False}
RULES: dict[str, dict[str, Check]] = {
    "participant-randomization-randomize": {"post": api(RANDOMIZERS, kwargs=pk_of("eligible"))},
    # Unblinding writes the audited event (and the unblinded user's access), not a CRF row.
    "participant-randomization-unblind": {"post": api({"investigator": Own(200)}, kwargs=pk_of("randomized"),
                                                      body=lambda fx, w, u: UNBLIND_BODY, changes=None)},
    "allocation-list-list": {"get": api(STATISTICIAN),
                             "post": api({"statistician": 201}, body=lambda fx, w, u: {"seed": "matrix-2", "slots_per_stratum": 2,
                                                                            "strata": ["C|MALS", "C|immunoparalysis"]}, **STAT)},
    # An empty upload: the statistician is told what is missing (400), everyone else refused.
    "allocation-list-import-list": {"post": api({"statistician": 400}, body=lambda fx, w, u: {}, **STAT,
                                                note="no valid import file is built: only the refusal of other roles is shown")},
    "allocation-list-detail": {"get": api(STATISTICIAN, kwargs=pk_of("allocation_list"), **STAT)},
    "allocation-list-slots": {"get": api(STATISTICIAN, kwargs=pk_of("allocation_list"), **STAT)},
    "allocation-list-verify": {"get": api(STATISTICIAN, kwargs=pk_of("allocation_list"), **STAT)},
    "study-unblinding-list": {
        "get": api(STATISTICIAN),
        # "unblind the study after the study lock": the study is not locked, so refused by state (409).
        "post": api({"statistician": 409}, body=lambda fx, w, u: UNBLIND_BODY, **STAT)},
    # --- pages ---
    "randomization:randomize": {"get": check(RANDOMIZERS, kwargs=pk_of("eligible")),
                                "post": check({r: Own(302) for r in RANDOMIZERS}, kwargs=pk_of("eligible"),
                                              body=lambda fx, w, u: {"confirm": "1"})},
    "randomization:unblind": {"get": check({"investigator": Own(200)}, kwargs=pk_of("randomized")),
                              # The arm is shown on the answer to the POST itself (200), never at a URL.
                              "post": check({"investigator": Own(200)}, kwargs=pk_of("randomized"),
                                            body=lambda fx, w, u: UNBLIND_BODY, changes=None)},
    "randomization:lists": {"get": check(STATISTICIAN)},
    "randomization:generate": {"get": check(STATISTICIAN),
                               # The page generates for every stratum; all but site C's have a list, so
                               # the form comes back with the refusal and nothing changes (the API above
                               # shows a valid generation).
                               "post": check({"statistician": 200}, body=lambda fx, w, u: {"seed": "matrix-3", "slots_per_stratum": 2},
                                             changes=False, **STAT)},
    "randomization:import": {"get": check(STATISTICIAN),
                             "post": check({"statistician": 200}, body=lambda fx, w, u: {}, changes=False, **STAT,
                                           note="no valid import file is built: the form comes back with its error")},
    "randomization:list-detail": {"get": check(STATISTICIAN, kwargs=pk_of("allocation_list"), **STAT)},
    "randomization:study-unblind": {"get": check(STATISTICIAN),
                                    # Not locked: the form comes back with the refusal, nothing changes.
                                    "post": check({"statistician": 200}, body=lambda fx, w, u: UNBLIND_BODY, changes=False, **STAT)},
}
_ = REASON
