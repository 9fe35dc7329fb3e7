"""Concurrent randomization on PostgreSQL (row locks): 24 threads randomizing different
participants of one stratum at once get distinct, consecutive slots; two requests for the same
participant give one allocation. Skipped on SQLite (marker ``postgres``)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.randomization.models import Assignment, Stratum
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from tests.support.screening import eligible_participant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 24


def _run_at_once(jobs):
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_parallel_randomizations_of_one_stratum_get_distinct_consecutive_slots(users, site_a, site_b, make_user):
    assert connection.vendor == "postgresql"
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="concurrency", slots_per_stratum=40)
    coordinators = [make_user(Role.COORDINATOR) for _ in range(4)]
    participants = [eligible_participant(coordinators[0], users[Role.LAB], site_a, f"A-{n:02d}", "MALS")
                    for n in range(THREADS)]
    jobs = [lambda p=p, i=i: participant_randomize(actor=coordinators[i % 4], participant=p)
            for i, p in enumerate(participants)]
    results = _run_at_once(jobs)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    sequences = sorted(Assignment.objects.filter(stratum_key="A|MALS").values_list("slot__sequence", flat=True))
    assert sequences == list(range(1, THREADS + 1))  # distinct and consecutive: none shared, none skipped
    assert Stratum.objects.get(key="A|MALS").next_sequence == THREADS + 1
    subject_ids = sorted(r.subject_id for r in results)
    assert subject_ids == [f"A-{n:03d}" for n in range(1, THREADS + 1)]


def test_two_requests_for_the_same_participant_give_one_allocation(users, site_a, site_b, make_user):
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="concurrency-2", slots_per_stratum=8)
    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-1", "MALS")
    other = make_user(Role.INVESTIGATOR)
    results = _run_at_once([lambda: participant_randomize(actor=users[Role.COORDINATOR], participant=participant),
                            lambda: participant_randomize(actor=other, participant=participant)] * 3)
    successes = [r for r in results if not isinstance(r, Exception)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(successes) == 1 and len(refusals) == 5
    assert all(r.status == 409 for r in refusals)
    assert Assignment.objects.count() == 1
    assert Stratum.objects.get(key="A|MALS").next_sequence == 2


def test_parallel_randomizations_at_many_sites(users, site_a, site_b, make_user):
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="concurrency-3", slots_per_stratum=20)
    b_coordinator = make_user(Role.COORDINATOR, sites=[site_b])
    people = []
    for n in range(6):
        people.append((users[Role.COORDINATOR], eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a,
                                                                     f"A-{n}", ("MALS", "immunoparalysis")[n % 2])))
        people.append((b_coordinator, eligible_participant(b_coordinator, users[Role.LAB], site_b, f"B-{n}",
                                                           ("MALS", "immunoparalysis")[n % 2])))
    results = _run_at_once([lambda a=a, p=p: participant_randomize(actor=a, participant=p) for a, p in people])
    assert not [r for r in results if isinstance(r, Exception)]
    for key in ("A|MALS", "A|immunoparalysis", "B|MALS", "B|immunoparalysis"):
        seqs = sorted(Assignment.objects.filter(stratum_key=key).values_list("slot__sequence", flat=True))
        assert seqs == [1, 2, 3], key
