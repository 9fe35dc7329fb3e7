"""AE and death across forms (safety/specs.py "AE and death"): hard errors only where the entry
is certainly wrong, a soft check that follows both forms whichever is entered first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.services import form_create, form_retract, form_update
from ecrf.outcomes.specs import DEATH
from safety.models import AdverseEvent, Adjudication
from safety.specs import AE_SPEC
from tests.safety.conftest import ae_data

pytestmark = pytest.mark.django_db
UTC = dt.UTC
FATAL = {"grade": 5, "outcome": "fatal", "serious": True, "serious_death": True, "verbatim_term": "Fatal GI bleeding",
         "llt_code": 94000004, "end_date": dt.date(2025, 6, 3)}


@pytest.fixture
def randomized(make_participant):
    return make_participant(randomized_at=dt.datetime(2025, 5, 30, 8, tzinfo=UTC), subject_id="A-001")


def _death(users, participant, died_at=dt.datetime(2025, 6, 3, 14, tzinfo=UTC)):  # noqa: ANN001, ANN202
    return form_create(actor=users[Role.INVESTIGATOR], spec=DEATH, participant=participant,
                       data={"died_at": died_at, "cause": "Haemorrhagic shock"}, submit=True)


def test_fatal_ae_first_then_death_form_clears_the_soft_check(make_ae, randomized, users):
    ae = make_ae(participant=randomized, **FATAL)
    assert ae.pk and "no death is recorded" in ae.death_check  # stored: a warning, never a refusal
    page = Client()
    page.force_login(users[Role.COORDINATOR])
    assert "no death is recorded" in page.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "check Death form" in page.get("/safety/?death_check=1").content.decode()
    home = page.get("/").content.decode()
    assert "to check against the Death form" in home
    version = ae.version
    death = _death(users, randomized)
    ae.refresh_from_db()
    assert ae.death_check == "" and ae.version == version  # re-derived, audited, not a new version
    record = ae.history.first()
    assert record.history_change_reason == "Check against the Death form re-derived"
    assert record.history_user == users[Role.INVESTIGATOR]
    assert Adjudication.objects.get(adverse_event=ae).round == 1  # not reopened by the check
    # The death is retracted: the fatal AE is flagged again.
    death.refresh_from_db()
    form_retract(actor=users[Role.INVESTIGATOR], spec=DEATH, form=death, version=death.version, reason="Entered for the wrong participant")
    ae.refresh_from_db()
    assert "no death is recorded" in ae.death_check


def test_death_form_first_then_fatal_ae_is_consistent(make_ae, randomized, users, api):
    _death(users, randomized)
    ae = make_ae(participant=randomized, **FATAL)
    assert ae.death_check == ""
    assert api(users[Role.MONITOR]).get(f"/api/v1/adverse-events/{ae.pk}/").json()["death_check"] == ""


def test_an_ae_after_the_recorded_death_is_refused(make_ae, randomized, users, api):
    _death(users, randomized)
    with pytest.raises(DomainError) as exc:
        make_ae(participant=randomized, **{**FATAL, "onset_date": dt.date(2025, 6, 4), "end_date": None})
    assert exc.value.status == 400 and "after the participant's recorded death (2025-06-03)" in exc.value.fields["onset_date"][0]
    with pytest.raises(DomainError) as exc:
        make_ae(participant=randomized, **{**FATAL, "end_date": dt.date(2025, 6, 5)})
    assert "end_date" in exc.value.fields
    response = api(users[Role.INVESTIGATOR]).post("/api/v1/adverse-events/", {
        "participant": randomized.pk, "submit": True, **ae_data(onset_date="2025-06-05", aware_at="2025-06-05T09:00:00Z")}, format="json")
    assert response.status_code == 400 and "onset_date" in response.json()["error"]["fields"]
    assert not AdverseEvent.objects.exists()


def test_a_death_recorded_later_before_the_onset_is_flagged_on_the_ae(make_ae, randomized, users):
    ae = make_ae(participant=randomized, onset_date=dt.date(2025, 6, 2), aware_at=dt.datetime(2025, 6, 2, 9, tzinfo=UTC))
    assert ae.death_check == ""  # not fatal, no death: nothing to check
    _death(users, randomized, died_at=dt.datetime(2025, 6, 1, 10, tzinfo=UTC))
    ae.refresh_from_db()
    assert "before this AE's onset" in ae.death_check


def test_grade_5_and_fatal_outcome_must_agree_within_the_ae(make_ae, randomized):
    with pytest.raises(DomainError) as exc:
        make_ae(participant=randomized, **{**FATAL, "outcome": "recovered"})
    assert "grade" in exc.value.fields
    with pytest.raises(DomainError) as exc:  # a death the AE caused, without grade 5
        make_ae(participant=randomized, **{**FATAL, "grade": 4, "serious_life_threatening": True})
    assert "outcome" in exc.value.fields


def test_a_non_fatal_update_clears_the_check(make_ae, randomized, users):
    ae = make_ae(participant=randomized, **FATAL)
    assert ae.death_check
    ae = form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Entered in error: patient survived",
                     data={"grade": 4, "outcome": "recovering", "serious_death": False, "serious_life_threatening": True, "end_date": None})
    assert ae.death_check == ""
