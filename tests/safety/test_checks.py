"""The adverse-event edit checks, on AEs entered through the form services (the demonstration
MedDRA dictionary) for a participant randomized through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.outcomes.specs import DEATH, END_OF_STUDY
from safety.models import SAEReport
from safety.services.reports import sae_report_submit
from safety.specs import AE_SPEC
from tests.safety.conftest import SERIOUS, ae_data
from tests.support import stages
from tests.support.checks import forms, run

pytestmark = pytest.mark.django_db

FATAL = {"grade": 5, "outcome": "fatal", "serious": True, "serious_death": True, "end_date": None}


@pytest.fixture
def ae(users, meddra, randomized):
    def make(onset: dt.date = dt.date(2025, 3, 12), *, submit: bool = True, **overrides):
        aware = dt.datetime.combine(onset, dt.time(9, 0), tzinfo=dt.UTC)
        data = ae_data(onset_date=onset, aware_at=aware, **overrides)
        return form_create(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, participant=randomized, data=data,
                           submit=submit)

    return make


def death(users, participant, on: dt.date):
    return form_create(actor=users[Role.INVESTIGATOR], spec=DEATH, participant=participant, submit=True,
                       data={"died_at": dt.datetime.combine(on, dt.time(12, 0), tzinfo=dt.UTC), "cause": "Septic shock"})


def test_onset_before_consent(ae, randomized):
    ae(dt.date(2025, 3, 9))  # the day of consent (2025-03-09 11:00 Athens)
    before = ae(dt.date(2025, 3, 8))
    assert forms(run("AE-001", randomized)) == {before.pk}


def test_onset_after_end_of_study(users, ae, randomized):
    ae(dt.date(2025, 4, 20))
    after = ae(dt.date(2025, 4, 25))
    form_create(actor=users[Role.INVESTIGATOR], spec=END_OF_STUDY, participant=randomized, submit=True,
                data={"disposition": "lost_to_follow_up", "disposition_date": dt.date(2025, 4, 20)})
    assert forms(run("AE-002", randomized)) == {after.pk}


def test_serious_ae_without_its_report_after_24_hours(users, ae, randomized):
    serious = ae(**SERIOUS)
    ae()  # not serious: no report due
    assert run("AE-003", randomized, now=serious.aware_at + dt.timedelta(hours=23)) == []
    assert forms(run("AE-003", randomized, now=serious.aware_at + dt.timedelta(hours=25))) == {serious.pk}
    report = SAEReport.objects.get(adverse_event=serious)
    sae_report_submit(actor=users[Role.INVESTIGATOR], report=report, version=report.version,
                      submitted_at=serious.aware_at + dt.timedelta(hours=30), recipient="Sponsor safety desk",
                      reference="SAE-1")
    assert run("AE-003", randomized, now=serious.aware_at + dt.timedelta(hours=31)) == []


def test_fatal_ae_without_a_death(users, ae, randomized):
    fatal = ae(**FATAL)
    assert forms(run("AE-004", randomized)) == {fatal.pk}
    death(users, randomized, dt.date(2025, 3, 13))
    assert run("AE-004", randomized) == []


def test_death_without_a_fatal_ae(users, ae, randomized):
    ae()
    recorded = death(users, randomized, dt.date(2025, 3, 13))
    assert forms(run("AE-005", randomized)) == {recorded.pk}
    ae(**FATAL)
    assert run("AE-005", randomized) == []


def test_onset_after_a_death_recorded_later(users, ae, randomized):
    ae(dt.date(2025, 3, 15))  # the day of death
    after = ae(dt.date(2025, 3, 18))
    death(users, randomized, dt.date(2025, 3, 15))
    assert forms(run("AE-006", randomized)) == {after.pk}


def test_unusual_hemoglobin_nadir_of_an_anemia_event(ae, randomized):
    anemia = {"verbatim_term": "Anemia", "anemia": True}
    ae(hb_nadir_g_dl="7.5", **anemia)
    low = ae(hb_nadir_g_dl="3.5", **anemia)
    high = ae(hb_nadir_g_dl="11.0", **anemia)
    assert forms(run("AE-007", randomized)) == {low.pk, high.pk}


def test_ended_outcome_without_end_date(ae, randomized):
    ae(outcome="recovered", end_date=dt.date(2025, 3, 14))
    ae(outcome="recovering")
    open_ended = ae(outcome="recovered")
    assert forms(run("AE-008", randomized)) == {open_ended.pk}


def test_grade_4_not_marked_life_threatening(ae, randomized):
    ae(grade=4, serious=True, serious_life_threatening=True)
    unmarked = ae(grade=4)
    assert forms(run("AE-009", randomized)) == {unmarked.pk}


def test_date_in_the_future_at_the_site(ae, randomized):
    # 2025-06-10 12:00 UTC is 15:00 in Athens: the forms accept the UTC+14 date, 2025-06-11.
    with stages.clock(dt.datetime(2025, 6, 10, 12, 0, tzinfo=dt.UTC)):
        ae(dt.date(2025, 6, 10), end_date=dt.date(2025, 6, 10))
        tomorrow = ae(dt.date(2025, 6, 9), end_date=dt.date(2025, 6, 11))
    assert forms(run("AE-011", randomized)) == {tomorrow.pk}


def test_stale_draft(ae, randomized):
    draft = ae(submit=False)
    assert run("AE-010", randomized, now=draft.updated_at + dt.timedelta(days=6)) == []
    assert forms(run("AE-010", randomized, now=draft.updated_at + dt.timedelta(days=8))) == {draft.pk}
