"""The query workflow services: who may do what, in which state, with what error, and what the
history and the thread record."""

from __future__ import annotations

import pytest

from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.models import LockScope
from ecrf.queries import services
from ecrf.queries.errors import QueryError
from ecrf.queries.models import MessageKind, Query, QueryMessage, QueryState, RunTrigger
from ecrf.queries.selectors import messages_for, queries_for
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(participant_a, vitals):
    return vitals(participant_a, heart_rate=170)


@pytest.fixture
def dm(users):
    return users["data_manager"]


@pytest.fixture
def draft(dm, form):
    return services.query_raise(actor=dm, spec=VITALS, form=form, field="heart_rate", text="Please check the rate.")


def _refused(code, call) -> DomainError:  # noqa: ANN001
    before = (Query.objects.count(), Query.history.count(), QueryMessage.objects.count(),
              list(Query.objects.values_list("state", "released_at", "accepted")))
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value.message
    after = (Query.objects.count(), Query.history.count(), QueryMessage.objects.count(),
             list(Query.objects.values_list("state", "released_at", "accepted")))
    assert after == before, "a refused operation changed something"
    return info.value


def test_a_manual_query_is_a_draft_only_the_data_team_sees_until_released(users, coordinator, dm, draft):
    assert draft.is_draft and draft.state == QueryState.OPEN and draft.raised_by == dm and draft.check_code is None
    assert queries_for(dm).filter(pk=draft.pk).exists()
    assert queries_for(users["monitor"]).filter(pk=draft.pk).exists()
    assert not queries_for(coordinator).filter(pk=draft.pk).exists()
    services.query_message(actor=dm, query=draft, text="Internal: ask about the monitor strip.")
    released = services.query_release(actor=dm, query=draft)
    assert released.released_at is not None and released.released_by == dm
    assert queries_for(coordinator).filter(pk=draft.pk).exists()
    # The draft's internal messages stay the data team's.
    site_thread = [m.kind for m in messages_for(coordinator, draft)]
    assert site_thread == [MessageKind.RELEASED]
    assert [m.kind for m in messages_for(dm, draft)] == [MessageKind.RAISED, MessageKind.MESSAGE, MessageKind.RELEASED]
    err = _refused(QueryError.ALREADY_RELEASED, lambda: services.query_release(actor=dm, query=draft))
    assert err.status == 409


def test_the_full_cycle_with_history(coordinator, dm, draft):
    services.query_release(actor=dm, query=draft)
    answered = services.query_answer(actor=coordinator, query=draft, text="Confirmed on the monitor: 170/min.")
    assert answered.state == QueryState.ANSWERED and answered.answered_at is not None
    _refused(QueryError.NOT_OPEN, lambda: services.query_answer(actor=coordinator, query=draft, text="again"))
    closed = services.query_close(actor=dm, query=draft, text="Thank you.")
    assert closed.state == QueryState.CLOSED and closed.closed_by == dm and not closed.accepted  # manual: no check
    _refused(QueryError.RESOLVED, lambda: services.query_message(actor=coordinator, query=draft, text="late"))
    reopened = services.query_reopen(actor=dm, query=draft, text="The source shows 107/min.")
    assert reopened.state == QueryState.OPEN and reopened.closed_at is None
    history = list(Query.history.filter(id=draft.pk).order_by("history_id"))
    assert [(h.state, h.history_user_id) for h in history] == [
        ("open", dm.pk), ("open", dm.pk), ("answered", coordinator.pk), ("closed", dm.pk), ("open", dm.pk)]
    assert history[-1].history_change_reason == "Reopened: The source shows 107/min."
    kinds = [m.kind for m in QueryMessage.objects.filter(query=draft).order_by("pk")]
    assert kinds == ["raised", "released", "answer", "closed", "reopened"]


def test_refusals_say_what_to_do_and_change_nothing(coordinator, dm, draft):
    # A draft is not the site's to see: the same 404 as a query that does not exist.
    _refused(ErrorCode.NOT_FOUND, lambda: services.query_answer(actor=coordinator, query=draft, text="x"))
    _refused(QueryError.DRAFT_NOT_CLOSABLE, lambda: services.query_close(actor=dm, query=draft, text="x"))
    services.query_release(actor=dm, query=draft)
    err = _refused(QueryError.TEXT_REQUIRED, lambda: services.query_close(actor=dm, query=draft, text="  "))
    assert err.status == 400 and "text" in err.fields
    _refused(QueryError.TEXT_REQUIRED, lambda: services.query_answer(actor=coordinator, query=draft, text=""))
    _refused(QueryError.NOT_REOPENABLE, lambda: services.query_reopen(actor=dm, query=draft, text="why"))
    _refused(ErrorCode.FORBIDDEN, lambda: services.query_close(actor=coordinator, query=draft, text="done"))
    _refused(ErrorCode.FORBIDDEN, lambda: services.query_answer(actor=dm, query=draft, text="answer"))
    services.query_cancel(actor=dm, query=draft, text="Raised on the wrong form.")
    _refused(QueryError.NOT_REOPENABLE, lambda: services.query_reopen(actor=dm, query=draft, text="why"))
    _refused(QueryError.RESOLVED, lambda: services.query_cancel(actor=dm, query=draft, text="again"))


def test_raising_checks_the_field_and_the_role(users, coordinator, dm, form):
    err = _refused(QueryError.UNKNOWN_FIELD, lambda: services.query_raise(
        actor=dm, spec=VITALS, form=form, field="weight", text="?"))
    assert "heart_rate" in err.fields["field"][0]
    _refused(ErrorCode.FORBIDDEN, lambda: services.query_raise(
        actor=coordinator, spec=VITALS, form=form, field="heart_rate", text="?"))
    whole = services.query_raise(actor=users["monitor"], spec=VITALS, form=form, field="", text="Whole form?")
    assert whole.field == "" and whole.raised_by == users["monitor"]


def test_site_scope_other_sites_see_nothing(make_user, site_b, dm, draft):
    services.query_release(actor=dm, query=draft)
    other_coordinator = make_user("coordinator", sites=[site_b])
    other_monitor = make_user("monitor", sites=[site_b])
    assert not queries_for(other_coordinator).exists() and not queries_for(other_monitor).exists()
    _refused(ErrorCode.NOT_FOUND, lambda: services.query_answer(actor=other_coordinator, query=draft, text="x"))
    _refused(ErrorCode.NOT_FOUND, lambda: services.query_close(actor=other_monitor, query=draft, text="x"))


def test_closing_a_check_query_whose_problem_remains_marks_it_accepted(test_checks, dm, form):
    services.checks_run(trigger=RunTrigger.BEAT)
    q = Query.objects.get(check_code="TEST-001")
    closed = services.query_close(actor=dm, query=q, text="Confirmed in the source.")
    assert closed.accepted
    assert QueryMessage.objects.filter(query=q, kind=MessageKind.ACCEPTED).exists()
    reopened = services.query_reopen(actor=dm, query=q, text="Not convinced.")
    assert not reopened.accepted


def test_raising_and_releasing_are_refused_under_a_lock(dm, form, draft):
    LockScope.objects.create(level="participant", kind="lock", participant=form.participant, reason="test")
    _refused(ErrorCode.LOCKED, lambda: services.query_raise(actor=dm, spec=VITALS, form=form, field="", text="?"))
    _refused(ErrorCode.LOCKED, lambda: services.query_release(actor=dm, query=draft))
    services.query_cancel(actor=dm, query=draft, text="Resolving before the lock holds.")  # resolution goes on


def test_bulk_release_and_close_refuse_the_whole_batch_on_one_bad_query(dm, form, draft):
    second = services.query_raise(actor=dm, spec=VITALS, form=form, field="temperature", text="Temperature?")
    services.query_release(actor=dm, query=draft)
    _refused(QueryError.ALREADY_RELEASED, lambda: services.query_release_many(actor=dm, query_ids=[draft.pk, second.pk]))
    _refused(QueryError.NOTHING_SELECTED, lambda: services.query_release_many(actor=dm, query_ids=[]))
    services.query_release_many(actor=dm, query_ids=[second.pk])
    closed = services.query_close_many(actor=dm, query_ids=[draft.pk, second.pk], text="Checked at the visit.")
    assert {q.state for q in closed} == {QueryState.CLOSED}


def test_check_run_requests_one_at_a_time(dm, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.check_run_request(actor=dm)
    assert run.state == "queued" and len(callbacks) == 1
    _refused(QueryError.RUN_IN_PROGRESS, lambda: services.check_run_request(actor=dm))
    _refused(ErrorCode.FORBIDDEN, lambda: services.check_run_request(actor=coordinator))
