"""The trial team's endpoint rules, through the real form and randomization services: only
submitted forms are data (SOFA days, deaths and doses alike, and the SOFA carry-forward inside a
day's score); a death on day 1 keeps the observed baseline; every randomized participant has an
endpoint record from randomization on, with the reasons of what it lacks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create, form_submit
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.outcomes.specs import DEATH
from ecrf.sofa import services
from ecrf.sofa.models import SofaDay, SofaEndpoint
from ecrf.sofa.specs import SOFA_DAY
from tests.sofa.conftest import FULL_DAY, RANDOMIZED_AT

pytestmark = pytest.mark.django_db


def sofa(run, actor, participant, day: int, *, submit: bool, **values):
    return run(form_create, actor=actor, spec=SOFA_DAY, participant=participant, submit=submit,
               data={"day": day, **values})


def dose(run, actor, participant, *, submit: bool):
    return run(form_create, actor=actor, spec=ADMINISTRATION, participant=participant, submit=submit,
               data={"route": "iv", "dose_number": 1, "given": True,
                     "started_at": RANDOMIZED_AT + dt.timedelta(minutes=20), "duration_minutes": 30,
                     "volume_ml": Decimal(20)})


def death(run, actor, participant, *, after: dt.timedelta, submit: bool):
    return run(form_create, actor=actor, spec=DEATH, participant=participant, submit=submit,
               data={"died_at": RANDOMIZED_AT + after, "cause": "Refractory septic shock"})


def endpoint(participant) -> SofaEndpoint:
    return SofaEndpoint.objects.get(participant=participant)


# --- only submitted forms are data -----------------------------------------------------------------


def test_a_draft_sofa_day_is_not_observed_and_is_filled_from_the_last_submitted_day(coordinator, randomized_a,
                                                                                     inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=True, **FULL_DAY)  # total 12
    draft = sofa(inline_tasks, coordinator, randomized_a, 2, submit=False, **{**FULL_DAY, "gcs": 15})  # total 11
    assert draft.total == 11  # the draft is scored for the person entering it
    e = endpoint(randomized_a)
    assert "2" not in e.inputs["sofa"]
    day2 = e.filled_series[1]
    assert (day2["day"], day2["score"], day2["source"], day2["carried_from_day"]) == (2, 12, "locf", 1)
    assert e.primary_response == Decimal(0)
    inline_tasks(form_submit, actor=coordinator, spec=SOFA_DAY, form=draft, version=draft.version)
    e = endpoint(randomized_a)
    assert e.inputs["sofa"]["2"]["total"] == 11 and e.filled_series[1]["source"] == "observed"
    assert e.primary_response == Decimal(1)  # 12 - 11 (day 2 carried through day 9)


def test_a_participant_with_only_a_draft_day1_is_not_evaluable(coordinator, randomized_a, inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=False, **FULL_DAY)
    sofa(inline_tasks, coordinator, randomized_a, 2, submit=True, **FULL_DAY)
    e = endpoint(randomized_a)
    assert e.evaluable is False and e.not_evaluable_reason == "no_day1_sofa"
    assert e.primary_response is None and e.responder is None


def test_a_draft_death_does_not_count_24(coordinator, randomized_a, inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=True, **FULL_DAY)
    draft = death(inline_tasks, coordinator, randomized_a, after=dt.timedelta(days=3, hours=2), submit=False)
    e = endpoint(randomized_a)
    assert e.inputs["death_day"] is None and e.alive_on_day9 is True
    assert {d["source"] for d in e.filled_series} == {"observed", "locf"}
    inline_tasks(form_submit, actor=coordinator, spec=DEATH, form=draft, version=draft.version)
    e = endpoint(randomized_a)
    assert e.inputs["death_day"] == 4 and e.alive_on_day9 is False
    assert all(d["score"] == 24 and d["source"] == "death" for d in e.filled_series if d["day"] >= 4)


def test_a_draft_dose_does_not_put_the_participant_in_the_mitt(coordinator, randomized_a, inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=True, **FULL_DAY)
    draft = dose(inline_tasks, coordinator, randomized_a, submit=False)
    e = endpoint(randomized_a)
    assert e.mitt is False and e.mitt_reason == "no_dose" and e.inputs["first_dose_at"] is None
    inline_tasks(form_submit, actor=coordinator, spec=ADMINISTRATION, form=draft, version=draft.version)
    e = endpoint(randomized_a)
    assert e.mitt is True and e.mitt_reason == "" and e.inputs["received_any_dose"] is True


def test_carry_forward_inside_a_days_score_uses_submitted_days_only(api, coordinator, randomized_a, inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=True, platelets="40", gcs=15)  # coagulation 3
    draft2 = sofa(inline_tasks, coordinator, randomized_a, 2, submit=False, platelets="200", gcs=15)  # coagulation 0
    day3 = sofa(inline_tasks, coordinator, randomized_a, 3, submit=True, gcs=15)  # no platelets: carried
    assert day3.coagulation == 3 and day3.imputed_components["coagulation"] == "carried_forward_day_1"
    inline_tasks(form_submit, actor=coordinator, spec=SOFA_DAY, form=draft2, version=draft2.version)
    day3.refresh_from_db()
    # The submitted day 2 is now the last observed day: day 3 is re-scored from it, audited.
    assert day3.coagulation == 0 and day3.imputed_components["coagulation"] == "carried_forward_day_2"
    assert day3.version == 2
    assert day3.history.first().history_change_reason.startswith("Re-derived: SOFA day 2 changed")


# --- a death on day 1 ------------------------------------------------------------------------------


def test_a_death_on_day1_keeps_the_baseline_and_days_2_to_9_count_24(coordinator, randomized_a, inline_tasks):
    sofa(inline_tasks, coordinator, randomized_a, 1, submit=True, **FULL_DAY)  # baseline 12
    dose(inline_tasks, coordinator, randomized_a, submit=True)
    died = death(inline_tasks, coordinator, randomized_a, after=dt.timedelta(hours=4), submit=True)
    assert died.study_day == 1
    e = endpoint(randomized_a)
    assert e.filled_series[0] == {"day": 1, "score": 12, "source": "observed", "carried_from_day": None}
    assert all((d["score"], d["source"]) == (24, "death") for d in e.filled_series[1:])
    assert e.evaluable is True and e.primary_response == Decimal(12 - 24)
    assert e.responder is False and e.counts_as_responder_in_analysis is False
    assert e.alive_on_day9 is False and e.mean_sofa_days_1_9 is None


# --- a record for every randomized participant ----------------------------------------------------


def test_every_randomized_participant_has_a_record_right_after_randomization(users, site_a, api):
    from ecrf.randomization.services import allocation_list_generate, participant_randomize
    from tests.screening.factories import eligible_participant

    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="endpoint-record", slots_per_stratum=8)
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1", "MALS")
    assert services.endpoint_derive(participant_id=participant.pk) is None  # not randomized: no record
    participant_randomize(actor=coordinator, participant=participant)
    e = endpoint(participant)
    assert e.mitt is False and e.mitt_reason == "no_dose"
    assert e.evaluable is False and e.not_evaluable_reason == "no_day1_sofa"
    assert e.history.count() == 1 and e.history.first().history_user == coordinator
    row = api(coordinator).get(f"/api/v1/endpoints/{participant.pk}/").json()
    assert row["mitt_reason"] == "no_dose" and "no dose of study drug received yet" in row["mitt_message"].lower()
    assert row["not_evaluable_reason"] == "no_day1_sofa" and "no day-1 sofa" in row["not_evaluable_message"].lower()


def test_the_record_is_created_in_the_randomizations_transaction(users, site_a, monkeypatch):
    """A failure after the record is derived rolls the randomization and the record back together."""
    from ecrf.core.errors import DomainError, ErrorCode
    from ecrf.randomization import services as randomization
    from ecrf.randomization.services import allocation_list_generate, participant_randomize
    from tests.screening.factories import eligible_participant

    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="endpoint-record", slots_per_stratum=8)
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1", "MALS")

    def fail(*args, **kwargs):
        assert SofaEndpoint.objects.filter(participant=participant).exists()  # already derived, inside
        raise DomainError(ErrorCode.STATE_CONFLICT, "Pharmacy notification failed.")

    monkeypatch.setattr(randomization, "_tell_pharmacists", fail)
    with pytest.raises(DomainError):
        participant_randomize(actor=coordinator, participant=participant)
    participant.refresh_from_db()
    assert not participant.is_randomized and not SofaEndpoint.objects.exists()


def test_the_bulk_rederivation_gives_every_randomized_participant_a_record(make_randomized, participant_a,
                                                                          sofa_totals):
    """Participants randomized before records existed from randomization get one in the catch-up."""
    with_sofa, without = make_randomized(), make_randomized()
    sofa_totals(with_sofa, {1: 10})
    report = services.endpoints_rederive()
    assert (report.participants, report.created) == (2, 2)
    bare = endpoint(without)
    assert (bare.mitt, bare.mitt_reason, bare.evaluable, bare.not_evaluable_reason) == (
        False, "no_dose", False, "no_day1_sofa")
    assert endpoint(with_sofa).evaluable is True and endpoint(with_sofa).mitt_reason == "no_dose"
    assert not SofaEndpoint.objects.filter(participant=participant_a).exists()  # not randomized
    assert services.endpoints_rederive(participant_ids=[participant_a.pk]).participants == 0


def test_the_bulk_rederivation_ignores_draft_sofa_days(make_randomized, sofa_totals):
    p = make_randomized()
    sofa_totals(p, {1: 10, 3: 4})
    sofa_totals(p, {2: 2}, status="draft")
    services.endpoints_rederive()
    e = endpoint(p)
    assert set(e.inputs["sofa"]) == {"1", "3"}
    assert e.filled_series[1]["source"] == "locf" and e.filled_series[1]["score"] == 10
    assert SofaDay.objects.filter(participant=p).count() == 3
