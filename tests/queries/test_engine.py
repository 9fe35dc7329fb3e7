"""The edit-check engine: set-based opening, closing and reopening of check queries, their
history, idempotence, locks, a faulty rule, and the after-save trigger."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from ecrf.celery import app as celery_app
from ecrf.crf.checks import target_key
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_update
from ecrf.queries.models import CheckRequest, CheckRun, MessageKind, Query, QueryMessage, QueryState, RunState, RunTrigger
from ecrf.queries.services import RESOLVED_TEXT, checks_run, query_close
from tests.queries.conftest import FAST_HEART, NO_VITALS, TEST_CHECKS
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[RunTrigger.BEAT, RunTrigger.AFTER_SAVE], ids=["check-by-check", "all-checks-together"])
def trigger(request):
    """The sweep runs one check at a time; the run after a save runs every check in one statement
    (falling back to one at a time when a rule fails): both must give the same outcome."""
    return request.param


def _audit_rows() -> tuple[int, int, int]:
    return Query.objects.count(), Query.history.count(), QueryMessage.objects.count()


def test_a_run_opens_one_released_query_per_problem_with_its_history(trigger, test_checks, participant_a, make_participant,
                                                                     vitals):
    fast = vitals(participant_a, heart_rate=170)
    bare = make_participant()
    run = checks_run(trigger=trigger)
    assert run.state == RunState.DONE and run.opened == 2 and run.checks_done == 2
    assert run.results == {"TEST-001": {"version": 1, "opened": 1, "reopened": 0, "closed": 0},
                           "TEST-002": {"version": 1, "opened": 1, "reopened": 0, "closed": 0}}
    q = Query.objects.get(check_code="TEST-001")
    assert (q.participant_id, q.form_id, q.field, q.form_key) == (participant_a.pk, fast.pk, "heart_rate", "testapp.vitals")
    assert q.target_key == target_key(FAST_HEART, participant_id=participant_a.pk, form_id=fast.pk, item="")
    assert q.state == QueryState.OPEN and q.released_at is not None and q.text == FAST_HEART.message
    assert q.form_type.model_class() is VITALS.model
    missing = Query.objects.get(check_code="TEST-002")
    assert (missing.participant_id, missing.form_id, missing.item) == (bare.pk, None, "baseline")
    assert missing.target_key == target_key(NO_VITALS, participant_id=bare.pk, form_id=None, item="baseline")
    history = list(Query.history.filter(id=q.pk))
    assert [h.history_type for h in history] == ["+"]
    assert history[0].history_change_reason == "Opened by edit check TEST-001 v1"


def test_a_second_run_with_nothing_changed_writes_nothing(trigger, test_checks, participant_a, make_participant, vitals):
    vitals(participant_a, heart_rate=170)
    make_participant()
    checks_run(trigger=trigger)
    before = _audit_rows()
    again = checks_run(trigger=trigger)
    assert (again.opened, again.closed, again.reopened) == (0, 0, 0)
    assert all("error" not in r for r in again.results.values())  # the conflicts were absorbed
    assert _audit_rows() == before


def test_a_corrected_problem_is_closed_and_a_recurring_one_reopened(trigger, test_checks, coordinator, participant_a, vitals):
    form = vitals(participant_a, heart_rate=170)
    checks_run(trigger=trigger)
    q = Query.objects.get(check_code="TEST-001")
    form = form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 90}, version=form.version,
                       reason="Typo")
    run = checks_run(trigger=trigger)
    assert run.closed == 1 and run.results["TEST-001"]["closed"] == 1
    q.refresh_from_db()
    assert (q.state, q.auto_closed, q.closed_by_id) == (QueryState.CLOSED, True, None)
    last = Query.history.filter(id=q.pk).order_by("-history_id").first()
    assert last.state == QueryState.CLOSED and last.history_change_reason == RESOLVED_TEXT and last.history_type == "~"
    assert QueryMessage.objects.filter(query=q, kind=MessageKind.RESOLVED, text=RESOLVED_TEXT).count() == 1

    form_update(actor=coordinator, spec=VITALS, form=form, data={"heart_rate": 175}, version=form.version,
                reason="Re-measured")
    run = checks_run(trigger=trigger)
    assert run.reopened == 1
    q.refresh_from_db()
    assert (q.state, q.auto_closed, q.closed_at) == (QueryState.OPEN, False, None)
    assert Query.objects.filter(check_code="TEST-001").count() == 1  # the same query, not a new one
    assert QueryMessage.objects.filter(query=q, kind=MessageKind.RECURRED).count() == 1


def test_a_query_confirmed_as_correct_stays_closed(trigger, test_checks, users, participant_a, vitals):
    vitals(participant_a, heart_rate=170)
    checks_run(trigger=trigger)
    q = Query.objects.get(check_code="TEST-001")
    q = query_close(actor=users["data_manager"], query=q, text="Confirmed in the source: the patient was febrile.")
    assert q.accepted and q.state == QueryState.CLOSED
    before = _audit_rows()
    run = checks_run(trigger=trigger)
    assert run.reopened == 0 and _audit_rows() == before
    q.refresh_from_db()
    assert q.state == QueryState.CLOSED


def test_the_participant_scope_leaves_other_participants_alone(test_checks, participant_a, make_participant, vitals):
    vitals(participant_a, heart_rate=170)
    other = make_participant()
    vitals(other, heart_rate=170)
    checks_run(trigger=RunTrigger.AFTER_SAVE, participant_ids=[participant_a.pk])
    assert set(Query.objects.values_list("participant_id", flat=True)) == {participant_a.pk}


def test_locked_participants_are_skipped_and_counted(trigger, test_checks, participant_a, make_participant, vitals):
    vitals(participant_a, heart_rate=170)
    other = make_participant()
    vitals(other, heart_rate=170)
    LockScope.objects.create(level="participant", kind="freeze", participant=other, reason="test")
    run = checks_run(trigger=trigger)
    assert run.skipped_locked == 1
    assert set(Query.objects.values_list("participant_id", flat=True)) == {participant_a.pk}
    LockScope.objects.create(level="study", kind="lock", reason="test")
    run = checks_run(trigger=trigger)
    assert run.skipped_locked == 2 and run.checks_done == 2 and run.opened == 0


def test_a_faulty_rule_is_reported_and_the_other_checks_still_run(trigger, test_checks, monkeypatch, participant_a, vitals):
    vitals(participant_a, heart_rate=170)

    def broken(scope):  # noqa: ANN001, ANN202
        raise RuntimeError("bad rule")

    faulty = type(FAST_HEART)(**{**FAST_HEART.__dict__, "code": "TEST-003", "rule": broken})
    run = checks_run(trigger=trigger, checks=[faulty, *TEST_CHECKS])
    assert run.results["TEST-003"]["error"] == "RuntimeError: bad rule"
    assert run.results["TEST-001"]["opened"] == 1 and run.state == RunState.DONE


def test_a_form_write_runs_the_checks_for_that_participant_after_the_commit(
        test_checks, monkeypatch, coordinator, participant_a, make_participant, vitals,
        django_capture_on_commit_callbacks):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    other = make_participant()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        vitals(participant_a, heart_rate=170)
    assert Query.objects.count() == 0  # nothing inside the write's transaction
    assert CheckRequest.objects.get(participant=participant_a).pending
    # A second save before the worker runs adds no second run.
    with django_capture_on_commit_callbacks(execute=False) as second:
        vitals(participant_a, heart_rate=80, day=21)
    assert len(callbacks) == 1 and second == []
    callbacks[0]()
    run = CheckRun.objects.get()
    assert run.trigger == RunTrigger.AFTER_SAVE and run.participant_ids == [participant_a.pk]
    assert list(Query.objects.values_list("participant_id", "check_code")) == [(participant_a.pk, "TEST-001")]
    assert not Query.objects.filter(participant=other).exists()
    assert not CheckRequest.objects.get(participant=participant_a).pending
    callbacks[0]()  # a redelivered task finds no pending request and runs nothing
    assert CheckRun.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=False) as third:
        vitals(participant_a, heart_rate=90, day=22)
    assert len(third) == 1  # taken requests are requested again


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_open_each_query_once(test_checks, participant_a, make_participant, vitals):
    for _ in range(3):
        vitals(make_participant(), heart_rate=170)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    now = timezone.now()

    def run() -> None:
        try:
            barrier.wait()
            checks_run(trigger=RunTrigger.BEAT, now=now)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Neither run met a conflict it could not absorb (ON CONFLICT DO NOTHING, row locks).
    assert all("error" not in r for run in CheckRun.objects.all() for r in run.results.values())
    # participant_a has no vitals: one TEST-002 query; three participants with fast heart rates.
    assert Query.objects.filter(check_code="TEST-001").count() == 3
    assert Query.objects.filter(check_code="TEST-002").count() == 1
    assert sum(CheckRun.objects.values_list("opened", flat=True)) == 4
    assert Query.history.count() == 4


def test_the_run_after_a_save_costs_the_same_statements_whatever_the_number_of_checks(test_checks, participant_a, vitals):
    from django.test.utils import CaptureQueriesContext

    vitals(participant_a, heart_rate=170)
    many = [type(FAST_HEART)(**{**FAST_HEART.__dict__, "code": f"TEST-1{n:02d}"}) for n in range(12)]

    def statements(checks) -> int:  # noqa: ANN001
        with CaptureQueriesContext(connection) as ran:
            run = checks_run(trigger=RunTrigger.AFTER_SAVE, participant_ids=[participant_a.pk], checks=checks)
        assert all("error" not in r for r in run.results.values()), run.results
        return len(ran.captured_queries)

    statements(TEST_CHECKS), statements(many)  # the first runs open their queries
    assert statements(many) == statements(TEST_CHECKS)
