"""Derived endpoints of frozen or locked data do not change (ARCHITECTURE.md invariant 5): a
single derivation of a locked participant is refused when its result would change; the bulk and
nightly re-derivation skips locked participants, goes on with the others and says how many it
held back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ecrf.audit.integrity import verify_chain
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.models import LockScope
from ecrf.sofa import services, tasks
from ecrf.sofa.models import ENDPOINT_RULES_VERSION, SofaDay, SofaEndpoint

pytestmark = pytest.mark.django_db
LEVELS = ["participant", "site", "study"]


def _lock(participant, level: str) -> LockScope:  # noqa: ANN001
    target = {"participant": {"participant": participant}, "site": {"site": participant.site}, "study": {}}[level]
    return LockScope.objects.create(level=level, kind="lock", reason="database lock for the test", **target)


def _release(scope: LockScope) -> None:
    scope.released_at = timezone.now()
    scope.release_reason = "audited unlock for the test"
    scope._change_reason = scope.release_reason
    scope.save()


def _state(participant) -> tuple:  # noqa: ANN001
    """Everything the locked record holds, and its audit trail."""
    row = SofaEndpoint.objects.get(participant=participant)
    return (row.primary_response, row.responder, row.filled_series, row.inputs_digest, row.rules_version,
            row.derived_at, row.history.count())


def _correct_day(day: SofaDay, total: int) -> None:
    day.total = total
    day.version += 1
    day._change_reason = "source data correction for the test"
    day.save()


@pytest.fixture
def derived(randomized_a, give_dose, sofa_totals):
    """A dosed participant with days 1-2 and its endpoint record; the days are returned too."""
    give_dose(randomized_a)
    days = sofa_totals(randomized_a, {1: 10, 2: 8})
    services.endpoint_derive(participant_id=randomized_a.pk)
    return randomized_a, days


@pytest.mark.parametrize("level", LEVELS)
def test_a_single_derivation_that_would_change_locked_endpoints_is_refused(derived, level):
    participant, days = derived
    before = _state(participant)
    _correct_day(days[1], 5)  # an input changed before the lock (e.g. a task not yet run)
    scope = _lock(participant, level)
    with pytest.raises(DomainError) as info:
        services.endpoint_derive(participant_id=participant.pk)
    assert info.value.code == ErrorCode.LOCKED and info.value.status == 409
    assert _state(participant) == before and SofaEndpoint.objects.count() == 1
    # The lock, and nothing else, held it back: after an audited unlock the change goes through.
    _release(scope)
    assert services.endpoint_derive(participant_id=participant.pk).primary_response == 5
    assert SofaEndpoint.objects.get(participant=participant).history.count() == before[-1] + 1


def test_an_unchanged_derivation_under_a_lock_writes_nothing_and_is_not_refused(derived):
    participant, _ = derived
    before = _state(participant)
    _lock(participant, "study")
    assert services.endpoint_derive(participant_id=participant.pk).pk is not None
    assert _state(participant) == before


@pytest.mark.parametrize("level", LEVELS)
def test_the_derivation_task_of_a_locked_participant_ends_without_changing_it(derived, level, caplog):
    participant, days = derived
    before = _state(participant)
    _correct_day(days[1], 5)
    _lock(participant, level)
    assert tasks.derive_participant_endpoints(participant.pk) is False  # no exception: the task is done
    assert _state(participant) == before
    assert f"participant {participant.pk} not re-derived" in caplog.text


def test_a_rules_change_skips_locked_participants_and_reports_them(make_randomized, give_dose, sofa_totals, site_b,
                                                                  monkeypatch):
    free, locked_one, at_locked_site = make_randomized(), make_randomized(), make_randomized(site=site_b)
    for i, p in enumerate((free, locked_one, at_locked_site)):
        give_dose(p)
        sofa_totals(p, {1: 10 + i, 2: 8, 4: 6})
    assert services.endpoints_rederive().created == 3
    _lock(locked_one, "participant")
    _lock(at_locked_site, "site")
    held = {p.pk: _state(p) for p in (locked_one, at_locked_site)}

    monkeypatch.setattr(services, "ENDPOINT_RULES_VERSION", "SAP-2-revised")
    report = services.endpoints_rederive()
    assert (report.participants, report.created, report.changed, report.unchanged, report.skipped_locked) == (3, 0, 1, 0, 2)
    # The locked records keep their values, rules version and history: no change is recorded.
    assert {p.pk: _state(p) for p in (locked_one, at_locked_site)} == held
    assert held[locked_one.pk][4] == ENDPOINT_RULES_VERSION
    unlocked = SofaEndpoint.objects.get(participant=free)
    assert unlocked.rules_version == "SAP-2-revised"
    assert unlocked.history.first().history_change_reason == "Re-derived: derivation rules changed"
    # The single derivation agrees with the bulk one: refused for the locked participant.
    with pytest.raises(DomainError) as info:
        services.endpoint_derive(participant_id=locked_one.pk)
    assert info.value.code == ErrorCode.LOCKED
    assert services.endpoints_rederive().skipped_locked == 2  # still held back, every night, until unlocked
    assert verify_chain().ok


def test_the_nightly_task_under_a_study_lock_writes_nothing_and_reports_every_change_held_back(
        make_randomized, give_dose, sofa_totals, monkeypatch):
    people = [make_randomized() for _ in range(3)]
    for p in people:
        sofa_totals(p, {1: 10, 2: 8})
    services.endpoints_rederive()
    give_dose(people[0])  # an input change of one participant...
    _lock(people[0], "study")
    monkeypatch.setattr(services, "ENDPOINT_RULES_VERSION", "SAP-2-revised")  # ...and a rules change for all
    history = SofaEndpoint.history.count()
    result = tasks.rederive_all_endpoints()
    assert result == {"participants": 3, "created": 0, "changed": 0, "skipped_locked": 3}
    assert SofaEndpoint.history.count() == history
    assert set(SofaEndpoint.objects.values_list("rules_version", flat=True)) == {ENDPOINT_RULES_VERSION}


def test_locked_participants_without_a_record_are_not_created_under_a_lock(make_randomized, sofa_totals):
    participant = make_randomized()  # randomized outside the services: no record yet
    sofa_totals(participant, {1: 10})
    _lock(participant, "participant")
    report = services.endpoints_rederive()
    assert (report.created, report.skipped_locked) == (0, 1)
    assert not SofaEndpoint.objects.exists()


def test_the_lock_check_costs_the_same_queries_for_any_number_of_participants(make_randomized, sofa_totals, site_b,
                                                                              monkeypatch):
    def run(n: int) -> int:
        people = [make_randomized(site=site_b if i % 2 else None) for i in range(n)]
        for p in people:
            sofa_totals(p, {1: 10})
        services.endpoints_rederive(participant_ids=[p.pk for p in people])
        _lock(people[0], "participant")
        if not LockScope.objects.filter(level="site").exists():
            LockScope.objects.create(level="site", kind="freeze", site=site_b, reason="frozen for the test")
        monkeypatch.setattr(services, "ENDPOINT_RULES_VERSION", f"SAP-2-r{n}")
        with CaptureQueriesContext(connection) as queries:
            report = services.endpoints_rederive(participant_ids=[p.pk for p in people])
        at_site_b = sum(i % 2 for i in range(n))  # frozen, not locked: held back just the same
        assert (report.skipped_locked, report.changed) == (1 + at_site_b, n - 1 - at_site_b)
        return len(queries)

    assert run(7) == run(3)
