"""One lock order for every write path (ecrf.crf.services, module docstring), on PostgreSQL:
concurrent edits of different forms of one participant (SOFA days that re-score each other,
administrations, a Death form that re-checks the AEs, an AE) neither deadlock nor lose an update.
Each thread uses its own database connection; a barrier starts them together. Skipped on SQLite
(marker ``postgres``)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create, form_update
from ecrf.dosing.models import Administration
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.outcomes.models import Death
from ecrf.outcomes.specs import DEATH
from ecrf.sofa.models import SofaDay, SofaEndpoint
from ecrf.sofa.specs import SOFA_DAY
from safety.meddra import ensure_demo_dictionary
from safety.models import AdverseEvent
from safety.specs import AE_SPEC
from tests.sofa.conftest import FULL_DAY, RANDOMIZED_AT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SOFA_DAYS = range(1, 7)
DOSES = range(1, 4)
ROUNDS = 3  # the whole set of concurrent writes is repeated, each round on the rows the last one left


def _run_at_once(jobs):
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a write never finished"
    return results


@pytest.fixture
def endpoint_task_inline(monkeypatch):
    """The endpoint re-derivation runs after each commit in the writing thread (it locks the
    participant too, so it takes part in the race) instead of going to a broker."""
    from ecrf.sofa import tasks

    monkeypatch.setattr(tasks.derive_participant_endpoints, "delay", tasks.derive_participant_endpoints)


def _dose_data(k: int, duration: int) -> dict:
    return {"route": "iv", "dose_number": k, "given": True,
            "started_at": RANDOMIZED_AT + dt.timedelta(minutes=20, hours=8 * (k - 1)),
            "duration_minutes": duration, "volume_ml": Decimal(20)}


def test_concurrent_writes_of_one_participant_neither_deadlock_nor_lose_an_update(users, make_participant,
                                                                                    endpoint_task_inline):
    assert connection.vendor == "postgresql"
    ensure_demo_dictionary()
    investigator = users[Role.INVESTIGATOR]
    p = make_participant(randomized_at=RANDOMIZED_AT, subject_id="A-900")
    # Complete days: nothing is carried forward, so a re-scoring changes no other day's values,
    # but it still locks every day (the lock pattern that deadlocked with the form row first).
    days = {d: form_create(actor=investigator, spec=SOFA_DAY, participant=p, submit=True, data={"day": d, **FULL_DAY})
            for d in SOFA_DAYS}
    doses = {k: form_create(actor=investigator, spec=ADMINISTRATION, participant=p, submit=True,
                            data=_dose_data(k, 30)) for k in DOSES}
    ae = form_create(actor=investigator, spec=AE_SPEC, participant=p, submit=True,
                     data={"verbatim_term": "Rash on trunk", "llt_code": 94000011, "onset_date": dt.date(2026, 3, 3),
                           "grade": 1, "outcome": "recovering", "aware_at": dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC),
                           "causality_iv": "possible", "causality_sc": "unlikely"})
    death = None

    for round_ in range(1, ROUNDS + 1):
        version = round_  # every form was written once per earlier round
        jobs = [lambda d=d: form_update(actor=investigator, spec=SOFA_DAY, form=days[d], version=version,
                                        data={"gcs": 12 - round_ - d % 3}, reason=f"Round {round_}: day {d}")
                for d in SOFA_DAYS]
        jobs += [lambda k=k: form_update(actor=investigator, spec=ADMINISTRATION, form=doses[k], version=version,
                                         data={"duration_minutes": 30 + round_ * 10 + k},
                                         reason=f"Round {round_}: dose {k}")
                 for k in DOSES]
        jobs.append(lambda: form_update(actor=investigator, spec=AE_SPEC, form=ae, version=version,
                                        data={"grade": 1 + round_ % 2}, reason=f"Round {round_}: AE"))
        if death is None:
            jobs.append(lambda: form_create(actor=investigator, spec=DEATH, participant=p, submit=True,
                                            data={"died_at": RANDOMIZED_AT + dt.timedelta(days=9), "cause": "Shock"}))
        else:
            jobs.append(lambda: form_update(actor=investigator, spec=DEATH, form=death, version=round_ - 1,
                                            data={"cause": f"Shock (round {round_})"}, reason=f"Round {round_}: death"))
        results = _run_at_once(jobs)
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors  # no deadlock, no stale-version refusal: each form was written once
        death = death or Death.objects.get(participant=p)

        # Every write applied exactly once: its value, one version step, one history row.
        for d in SOFA_DAYS:
            row = SofaDay.objects.get(pk=days[d].pk)
            assert (row.gcs, row.version) == (12 - round_ - d % 3, round_ + 1)
            reasons = [h.history_change_reason for h in row.history.order_by("history_id")]
            assert reasons == ["Created and submitted", *(f"Round {r}: day {d}" for r in range(1, round_ + 1))]
        for k in DOSES:
            row = Administration.objects.get(pk=doses[k].pk)
            assert (row.duration_minutes, row.version) == (30 + round_ * 10 + k, round_ + 1)
            assert row.history.count() == round_ + 1
        row = AdverseEvent.objects.get(pk=ae.pk)
        assert (row.grade, row.version) == (1 + round_ % 2, round_ + 1)
        assert [h.history_change_reason for h in row.history.order_by("history_id")][1:] == [
            f"Round {r}: AE" for r in range(1, round_ + 1)]
        row = Death.objects.get(pk=death.pk)
        assert row.version == round_ and row.history.count() == round_
        assert Death.objects.filter(participant=p).count() == 1

    # The endpoint derived last (after the last commit) saw every write.
    endpoint = SofaEndpoint.objects.get(participant=p)
    assert endpoint.inputs["death_day"] == 10 and endpoint.inputs["received_any_dose"] is True
    assert {day: entry["version"] for day, entry in endpoint.inputs["sofa"].items()} == {
        str(d): ROUNDS + 1 for d in SOFA_DAYS}
