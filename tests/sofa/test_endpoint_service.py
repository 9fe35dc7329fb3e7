"""Endpoint derivations stored per participant with their inputs, re-derived when an input
changes (trial.md "Primary endpoint", "Secondary endpoints")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.audit.models import REASON_MAX_LENGTH

from ecrf.audit.integrity import verify_chain
from ecrf.sofa import services
from ecrf.sofa.models import SofaEndpoint
from tests.sofa.conftest import FULL_DAY, RANDOMIZED_AT

pytestmark = pytest.mark.django_db


def derive(participant):
    return services.endpoint_derive(participant_id=participant.pk)


@pytest.fixture
def dosed(randomized_a, give_dose):
    give_dose(randomized_a)
    return randomized_a


def test_survivor(dosed, sofa_totals):
    sofa_totals(dosed, {1: 10, **{d: 8 for d in range(2, 16)}})
    e = derive(dosed)
    assert e.evaluable and e.primary_response == Decimal(2) and e.responder is True
    assert e.secondary_response == Decimal(2) and e.secondary_responder is True
    assert e.alive_on_day9
    assert e.mean_sofa_days_1_9.quantize(Decimal("0.000001")) == Decimal("8.222222")
    assert e.mitt and e.counts_as_responder_in_analysis
    assert e.inputs["sofa"]["1"]["total"] == 10 and e.inputs["received_any_dose"] is True
    assert e.inputs["death_day"] is None


def test_death_on_day_5_counts_24_from_day_5(dosed, sofa_totals, record_death):
    sofa_totals(dosed, {1: 10, 2: 6, 3: 6, 4: 6, 5: 3})  # a form on the day of death is overridden
    record_death(dosed, 5)
    e = derive(dosed)
    series = {d["day"]: (d["score"], d["source"]) for d in e.filled_series}
    assert all(series[d] == (24, "death") for d in range(5, 16))
    assert e.primary_response == Decimal(10) - Decimal(18 + 5 * 24) / 8 == Decimal("-7.25")
    assert e.responder is False and e.alive_on_day9 is False and e.mean_sofa_days_1_9 is None
    assert e.inputs["death_day"] == 5


def test_gaps_are_carried_forward(dosed, sofa_totals):
    sofa_totals(dosed, {1: 10, 2: 9, 5: 7})
    e = derive(dosed)
    series = {d["day"]: d for d in e.filled_series}
    assert series[3]["score"] == 9 and series[3]["source"] == "locf" and series[3]["carried_from_day"] == 2
    assert series[9]["score"] == 7 and series[9]["carried_from_day"] == 5
    assert e.primary_response == Decimal("2.25") and e.responder is True


def test_no_day1_form_is_not_evaluable_and_a_non_responder_in_the_analysis(dosed, sofa_totals):
    sofa_totals(dosed, {d: 2 for d in range(2, 10)})
    e = derive(dosed)
    assert e.evaluable is False and e.not_evaluable_reason == "no_day1_sofa"
    assert e.primary_response is None and e.responder is None
    assert e.mitt is True and e.counts_as_responder_in_analysis is False


@pytest.mark.parametrize(("days_2_9", "response", "responder"), [
    ([9, 9, 9, 9, 9, 8, 8, 8], Decimal("1.375"), False),
    ([9, 9, 9, 9, 8, 8, 8, 8], Decimal("1.5"), True),
])
def test_response_at_the_threshold(dosed, sofa_totals, days_2_9, response, responder):
    sofa_totals(dosed, {1: 10, **dict(zip(range(2, 10), days_2_9, strict=True))})
    e = derive(dosed)
    assert e.primary_response == response and e.responder is responder
    assert e.counts_as_responder_in_analysis is responder


def test_never_dosed_is_outside_the_mitt(randomized_a, sofa_totals):
    sofa_totals(randomized_a, {1: 12, **{d: 2 for d in range(2, 16)}})
    e = derive(randomized_a)
    assert e.responder is True and e.mitt is False and e.counts_as_responder_in_analysis is False
    assert e.inputs["received_any_dose"] is False and e.inputs["first_dose_at"] is None


def test_not_randomized_has_no_endpoints(participant_a):
    assert services.endpoint_derive(participant_id=participant_a.pk) is None
    assert not SofaEndpoint.objects.exists()


def test_derivation_is_idempotent_and_each_change_is_in_history(dosed, sofa_totals):
    rows = sofa_totals(dosed, {1: 10, 2: 8})
    first = derive(dosed)
    assert derive(dosed).history.count() == 1 and first.history.first().history_change_reason == "Derived"
    rows[1].total = 5
    rows[1].version += 1
    rows[1]._change_reason = "test"
    rows[1].save()
    e = derive(dosed)
    assert e.primary_response == Decimal(5)
    latest = e.history.first()
    assert latest.history_change_reason == "Re-derived: SOFA day 2 changed"
    assert e.history.last().primary_response == Decimal(2)
    assert verify_chain().ok


def test_bulk_rederive_matches_single_derivations_and_keeps_the_audit_chain(make_randomized, sofa_totals, give_dose,
                                                                             record_death):
    people = [make_randomized() for _ in range(6)]
    for i, p in enumerate(people):
        sofa_totals(p, {1: 10 + i, 2: 8, 4: 6})
        if i % 2:
            give_dose(p)
        if i == 3:
            record_death(p, 7)
    report = services.endpoints_rederive()
    assert (report.participants, report.created, report.changed) == (6, 6, 0)
    bulk = {e.participant_id: (e.primary_response, e.responder, e.mitt, e.alive_on_day9, e.filled_series)
            for e in SofaEndpoint.objects.all()}
    assert services.endpoints_rederive().unchanged == 6  # nothing changed: nothing written
    for p in people:
        e = derive(p)  # the single derivation finds the same inputs: no new history row
        assert e.history.count() == 1
        assert (e.primary_response, e.responder, e.mitt, e.alive_on_day9, e.filled_series) == bulk[p.pk]
    record_death(people[0], 3)
    report = services.endpoints_rederive(participant_ids=[people[0].pk])
    assert report.changed == 1
    e = SofaEndpoint.objects.get(participant=people[0])
    assert e.alive_on_day9 is False and e.history.first().history_change_reason == "Re-derived: death recorded"
    assert verify_chain().ok


def test_saving_inputs_schedules_the_rederivation_on_commit(api, coordinator, dosed, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    from ecrf.sofa import tasks

    ran: list[int] = []
    monkeypatch.setattr(tasks.derive_participant_endpoints, "delay",
                        lambda pid: ran.append(pid) or tasks.derive_participant_endpoints(pid))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(coordinator).post("/api/v1/sofa/", {"participant": dosed.pk, "day": 1, "submit": True, **FULL_DAY},
                                         format="json")
    assert response.status_code == 201
    assert not SofaEndpoint.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert dosed.pk in ran
    assert SofaEndpoint.objects.get(participant=dosed).inputs["sofa"]["1"]["total"] == 12


def test_changing_a_day_rederives_the_endpoint_and_the_change_is_audited(api, coordinator, dosed, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    from ecrf.sofa import tasks

    monkeypatch.setattr(tasks.derive_participant_endpoints, "delay", tasks.derive_participant_endpoints)
    client = api(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        day1 = client.post("/api/v1/sofa/", {"participant": dosed.pk, "day": 1, "submit": True, **FULL_DAY},
                           format="json").json()
        client.post("/api/v1/sofa/", {"participant": dosed.pk, "day": 2, "submit": True, **FULL_DAY}, format="json")
    endpoint = SofaEndpoint.objects.get(participant=dosed)
    assert endpoint.primary_response == Decimal(0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/sofa/{day1['id']}/", {"gcs": 3, "expected_version": 1,
                                                                "reason": "GCS mis-transcribed"}, format="json")
    assert response.status_code == 200 and response.json()["subscores"]["cns"] == 4
    endpoint.refresh_from_db()
    assert endpoint.primary_response == Decimal(3)  # day 1 total 15, days 2-9 carry 12
    assert endpoint.inputs["sofa"]["1"] == {"total": 15, "form": day1["id"], "version": 2}
    old, new = endpoint.history.order_by("history_id")
    assert old.primary_response == Decimal(0) and new.primary_response == Decimal(3)
    assert new.history_change_reason == "Re-derived: SOFA day 1 changed"
    # The day's own change is audited with who and why.
    day_history = client.get(f"/api/v1/sofa/{day1['id']}/history/").json()
    assert any(h["field"] == "gcs" and h["old"] == "13" and h["new"] == "3" and h["reason"] == "GCS mis-transcribed"
               for h in day_history)


def test_a_death_or_a_dose_recorded_through_their_services_rederives(users, randomized_a, sofa_totals, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    from ecrf.accounts.roles import Role
    from ecrf.crf.services import form_create
    from ecrf.dosing.specs import ADMINISTRATION
    from ecrf.outcomes.specs import DEATH
    from ecrf.sofa import tasks

    monkeypatch.setattr(tasks.derive_participant_endpoints, "delay", tasks.derive_participant_endpoints)
    sofa_totals(randomized_a, {1: 10, 2: 8})
    services.endpoint_derive(participant_id=randomized_a.pk)
    coordinator = users[Role.COORDINATOR]
    with django_capture_on_commit_callbacks(execute=True):
        form_create(actor=coordinator, spec=ADMINISTRATION, participant=randomized_a, submit=True,
                    data={"route": "iv", "dose_number": 1, "given": True,
                          "started_at": RANDOMIZED_AT + dt.timedelta(minutes=20), "duration_minutes": 30,
                          "volume_ml": Decimal(20)})
    assert SofaEndpoint.objects.get(participant=randomized_a).mitt is True
    with django_capture_on_commit_callbacks(execute=True):
        form_create(actor=coordinator, spec=DEATH, participant=randomized_a, submit=True,
                    data={"died_at": RANDOMIZED_AT + dt.timedelta(days=3, hours=2), "cause": "Refractory shock"})
    e = SofaEndpoint.objects.get(participant=randomized_a)
    assert e.inputs["death_day"] == 4 and e.alive_on_day9 is False
    assert e.history.first().history_change_reason == "Re-derived: death recorded"


def test_the_history_reason_names_every_changed_day_and_fits_its_column():
    def inputs(totals, death_day=None):
        return {"sofa": {str(d): {"total": t, "form": d, "version": 1} for d, t in totals.items()},
                "death_day": death_day, "first_dose_at": None, "rules": "SAP-2", "protocol": {}}

    old = inputs({d: 5 for d in range(1, 16)})
    assert services._describe_change(old, inputs({**{d: 5 for d in range(1, 16)}, 2: 6})) == (
        "Re-derived: SOFA day 2 changed")
    reason = services._describe_change(old, inputs({d: 6 for d in range(1, 15)}, death_day=15))
    assert reason.startswith("Re-derived: SOFA day 15 withdrawn; SOFA days 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,")
    # The history keeps the reason whole (a text column); only a reason beyond the project's
    # limit is shortened, never refused.
    assert "14" in reason and not reason.endswith("…")
    long = services._fit_reason("Re-derived: " + "SOFA day 1 changed; " * 100)
    assert len(long) == REASON_MAX_LENGTH and long.endswith("…")
