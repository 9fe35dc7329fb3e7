"""The set-based schedules: ``build_schedules`` gives every participant of a varied trial the
schedule ``build_schedule`` gives it alone, at a query count that does not depend on how many
participants are asked for, and the study-lock gate's entry condition reads them in chunks.

The trial is built once for the module through the services (inside a transaction rolled back
at the end); everything is computed there and the tests compare the results.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.core.errors import DomainError
from ecrf.crf.models import Participant
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create, form_mark_not_done, form_retract
from ecrf.dosing.specs import ADMINISTRATION, DISCONTINUATION
from ecrf.outcomes.specs import DEATH
from ecrf.queries.services import query_raise, query_release
from ecrf.review import blockers, selectors as review_selectors
from ecrf.review.services import form_verify, scope_freeze, scope_lock, signature_create
from ecrf.schedule.errors import ScheduleError
from ecrf.schedule.selectors import build_schedule, build_schedules
from ecrf.study.models import Site, Study
from tests.conftest import PASSWORD
from tests.support import stages
from tests.support.screening import screen, withdraw
from tests.support.times import athens, iv, sc

pytestmark = pytest.mark.django_db

DAY_ONE = athens(2025, 3, 10, 10, 0)
# During treatment: some slots upcoming, some due, some overdue.
NOW = athens(2025, 3, 16, 12, 0)


def _trial() -> dict[str, Any]:
    Study.objects.create(code="SETS", title="Sets", time_zone="Europe/Athens", safety_contact_email="s@example.org")
    site_a = Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")
    site_b = Site.objects.create(code="B", name="Site B", country="NL", time_zone="Europe/Amsterdam")
    users = {}
    for role in Role.values:
        users[role], _ = user_create(actor=None, username=f"sets-{role}", roles=[role], site_codes=["A", "B"],
                                     password=PASSWORD)
    site, dm, lab = users[Role.COORDINATOR], users[Role.DATA_MANAGER], users[Role.LAB]
    vital = get_spec("outcomes.vital_status")
    start = DAY_ONE + dt.timedelta(minutes=15)

    # Dosed, dose 2 a draft, dose 3 retracted (not on the schedule), day-28 vital status not
    # done; a released query on dose 1 and a form-level lock on it, dose 1 verified.
    dosed = stages.dosed(site_a, actor=site, lab_user=lab, at=DAY_ONE)
    dose1 = ADMINISTRATION.model.objects.get(participant=dosed, route="iv", dose_number=1)
    form_create(actor=site, spec=ADMINISTRATION, participant=dosed, data=iv(start + dt.timedelta(hours=8), 2))
    wrong = form_create(actor=site, spec=ADMINISTRATION, participant=dosed, data=iv(start + dt.timedelta(hours=16), 3),
                        submit=True)
    form_retract(actor=site, spec=ADMINISTRATION, form=wrong, version=wrong.version, reason="Wrong participant")
    draft = form_create(actor=site, spec=vital, participant=dosed,
                        data={"day": 28, "vital_status": "alive", "assessed_on": dt.date(2025, 4, 6)})
    form_mark_not_done(actor=site, spec=vital, form=draft, version=draft.version, reason="Lost to follow-up")
    query_release(actor=dm, query=query_raise(actor=dm, spec=ADMINISTRATION, form=dose1, field="volume_ml",
                                              text="Please confirm the volume."))
    form_verify(actor=users[Role.MONITOR], spec=ADMINISTRATION, form=dose1, version=dose1.version)
    scope_lock(actor=dm, level="form", form=dose1, reason="Reviewed")

    # Died on day 3 after two doses; the casebook signed.
    dead = stages.randomized(site_a, actor=site, lab_user=lab, at=DAY_ONE)
    form_create(actor=site, spec=ADMINISTRATION, participant=dead, data=iv(start, 1), submit=True)
    form_create(actor=site, spec=ADMINISTRATION, participant=dead, data=sc(start, 1), submit=True)
    form_create(actor=site, spec=DEATH, participant=dead, submit=True,
                data={"died_at": athens(2025, 3, 12, 6, 0), "cause": "Septic shock"})
    state = review_selectors.casebook_states([dead.pk])[dead.pk]
    signature_create(actor=users[Role.INVESTIGATOR], participant=dead, meaning="approve", password=PASSWORD,
                     expected=state.manifest_hash)

    # Withdrew from data collection on day 3; the participant frozen.
    withdrawn = stages.randomized(site_a, actor=site, lab_user=lab, at=DAY_ONE)
    form_create(actor=site, spec=ADMINISTRATION, participant=withdrawn, data=iv(start, 1), submit=True)
    withdraw(site, withdrawn, "data_collection", dt.date(2025, 3, 12))
    scope_freeze(actor=dm, level="participant", participant=withdrawn, reason="Withdrawal review")

    # Withdrew from treatment on day 4 after the SC route was stopped on day 2.
    stopped = stages.dosed(site_a, actor=site, lab_user=lab, at=DAY_ONE)
    form_create(actor=site, spec=DISCONTINUATION, participant=stopped, submit=True,
                data={"route": "sc", "discontinued_on": dt.date(2025, 3, 11), "discontinuation_reason": "adverse_event"})
    withdraw(site, stopped, "treatment", dt.date(2025, 3, 13))

    # Another site, another time zone, randomized at 23:00; the site frozen.
    other = stages.randomized(site_b, actor=site, lab_user=lab, at=athens(2025, 3, 11, 22, 0))
    form_create(actor=site, spec=ADMINISTRATION, participant=other, data=iv(athens(2025, 3, 11, 22, 10), 1), submit=True)
    scope_freeze(actor=dm, level="site", site=site_b, reason="Monitoring visit")

    # Screened and not eligible: no schedule, blocks nothing.
    failure = screen(site, site_a, "SCR-FAIL1", age=15).participant
    return {"randomized": [dosed, dead, withdrawn, stopped, other], "failure": failure, "coordinator": site}


def _fresh(pks: list[int]) -> list[Participant]:
    """New instances (their sites not loaded), as a caller holding only ids would have them."""
    found = {p.pk: p for p in Participant.objects.filter(pk__in=pks)}
    return [found[pk] for pk in pks]


def _count(func: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as ctx:
        result = func()
    return result, len(ctx.captured_queries)


@pytest.fixture(scope="module")
def results(django_db_setup, django_db_blocker) -> dict[str, Any]:  # noqa: ANN001
    with django_db_blocker.unblock(), transaction.atomic():
        trial = _trial()
        pks = [p.pk for p in trial["randomized"]]
        out: dict[str, Any] = {"pks": pks}
        out["alone"] = {pk: build_schedule(_fresh([pk])[0], now=NOW) for pk in pks}
        out["together"] = build_schedules(_fresh(pks), now=NOW)
        out["bare"] = build_schedules(_fresh(pks), now=NOW, overlays=False)
        build_schedules(_fresh(pks), now=NOW)  # the per-process caches (content types) warm
        _, out["queries_two"] = _count(lambda: build_schedules(_fresh(pks[:2]), now=NOW))
        _, out["queries_all"] = _count(lambda: build_schedules(_fresh(pks), now=NOW))
        try:
            build_schedules(_fresh([*pks, trial["failure"].pk]), now=NOW)
        except DomainError as exc:
            out["failure_error"] = exc.code
        out["gate"] = blockers.entry_blockers(None)
        chunk, blockers.SCHEDULE_CHUNK = blockers.SCHEDULE_CHUNK, 2
        try:
            out["gate_in_chunks_of_two"] = blockers.entry_blockers(None)
        finally:
            blockers.SCHEDULE_CHUNK = chunk
        out["failure_pk"] = trial["failure"].pk
        client = Client()
        client.force_login(trial["coordinator"])
        out["pages"] = {pk: client.get(f"/participants/{pk}/").content.decode() for pk in pks[:3]}
        transaction.set_rollback(True)
    return out


def test_each_participants_schedule_is_the_one_it_gets_alone(results):
    alone, together = results["alone"], results["together"]
    assert set(together) == set(results["pks"])
    for pk in results["pks"]:
        assert together[pk] == alone[pk], f"participant {pk}: the set-based schedule differs from its own"
    # The trial is varied: the schedules hold each state the gate and the casebook tell apart.
    states = {f.state for s in together.values() for f in s.forms}
    assert {"upcoming", "due", "overdue", "draft", "entered", "not_done", "not_expected", "locked", "frozen",
            "signed"} <= states
    overlays = set().union(*(f.overlays for s in together.values() for f in s.forms))
    assert {"queried", "verified"} <= overlays


def test_each_overlay_reaches_the_entries_it_covers_and_no_others(results):
    dosed, dead, withdrawn, stopped, other = results["pks"]

    def marks(pk: int) -> list[tuple[Any, frozenset[str]]]:
        return [(f.slot.label, f.overlays) for f in results["together"][pk].forms if f.entry is not None]

    # The site freeze covers site B's participant, the participant freeze the withdrawn one.
    assert marks(other) and all("frozen" in m for _, m in marks(other))
    assert marks(withdrawn) and all("frozen" in m for _, m in marks(withdrawn))
    # The form lock, the released query and the verification are on dosed's first IV dose only.
    assert {label for label, m in marks(dosed) if m} == {"IV study drug dose 1"}
    assert {"locked", "queried", "verified"} <= dict(marks(dosed))["IV study drug dose 1"]
    # The casebook signature covers the dead participant's entries (none is a draft), no one else's.
    assert marks(dead) and all(m == {"signed"} for _, m in marks(dead))
    assert all(not m for _, m in marks(stopped))


def test_without_overlays_only_the_states_of_entries_differ(results):
    status_state = {"draft": "draft", "submitted": "entered", "not_done": "not_done"}
    for pk in results["pks"]:
        full, bare = results["together"][pk].forms, results["bare"][pk].forms
        assert [(f.slot, f.expected, f.why_not, f.entry) for f in bare] == [(f.slot, f.expected, f.why_not, f.entry) for f in full]
        for f, b in zip(full, bare):
            assert not b.overlays
            assert b.state == (status_state[b.entry.status] if b.entry is not None else f.state)


def test_the_query_count_does_not_depend_on_the_number_of_participants(results):
    assert results["queries_two"] == results["queries_all"]


def test_a_participant_not_randomized_has_no_schedule(results):
    assert results["failure_error"] == ScheduleError.NOT_RANDOMIZED


def test_the_gates_entry_condition_is_the_same_in_chunks(results):
    gate = results["gate"]
    assert gate == results["gate_in_chunks_of_two"]
    named = {b.participant_id for b in gate}
    assert named and named <= set(results["pks"]) and results["failure_pk"] not in named


def test_the_participant_page_shows_the_withdrawal_in_its_header_and_screening_panel(results):
    dosed, dead, withdrawn = results["pks"][:3]
    page = results["pages"][withdrawn]
    assert re.search(r"<strong>Withdrawn:</strong> [^<]*, 2025-03-12</li>", page)
    assert re.search(r"<dt>Withdrawal</dt><dd>[^<]*, 2025-03-12</dd>", page)
    # The header still reads the schedule without its overlays: the missed doses of the frozen participant.
    assert re.search(r"\d+ doses past their window", page)
    for other in (dosed, dead):
        assert "Withdrawn:" not in results["pages"][other] and "<dt>Withdrawal</dt>" not in results["pages"][other]
