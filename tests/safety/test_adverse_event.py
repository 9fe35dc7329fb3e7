"""The AE CRF: validation ("Bad input"), derivations, exemptions, SAE reports and follow-ups."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create, form_update, participant_mark_randomized
from ecrf.dosing.specs import ADMINISTRATION
from safety.clocks import ClockKind
from safety.models import AdverseEvent, Clock, SAEReport
from safety.services import sae_report_submit
from safety.specs import AE_SPEC
from tests.safety.conftest import SERIOUS, ae_data

pytestmark = pytest.mark.django_db


def _post(api, user, participant, **overrides):  # noqa: ANN001, ANN202
    body = {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in ae_data(**overrides).items()}
    return api(user).post("/api/v1/adverse-events/", {"participant": participant.pk, "submit": True, **body}, format="json")


def test_non_serious_ae_is_coded_and_derived_on_the_server(api, users, meddra, participant_a):
    response = _post(api, users[Role.COORDINATOR], participant_a)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["pt_name"], body["soc_name"]) == ("Rash", "Skin disorders (demo)")
    assert (body["related_iv"], body["related_sc"]) == (True, False)
    assert body["exemption"] == "" and body["treatment_emergent"] is None
    assert not Clock.objects.exists() and not SAEReport.objects.exists()


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"end_date": "2025-05-31"}, "end_date", "before the onset"),
    ({"grade": 5, "outcome": "not_recovered"}, "grade", "set the outcome to fatal"),
    ({"grade": 4, "outcome": "fatal", "serious": True, "serious_death": True}, "outcome", "grade 5"),
    ({"serious": True}, "serious", "at least one seriousness criterion"),
    ({"serious_important_medical_event": True}, "serious", "mark the event serious"),
    ({"serious": True, "serious_hospitalisation": True, "causality_sc": ""}, "causality_sc", "required for a serious event"),
    ({"llt_code": 12345}, "llt_code", "not a lowest level term"),
    ({"llt_code": 94000017}, "llt_code", "not current"),
    ({"anemia": True}, "hb_nadir_g_dl", "hemoglobin nadir"),
    ({"bleeding": True, "bleeding_site": "nose"}, "bleeding_severity", "severity"),
    ({"grade": 5, "outcome": "fatal", "serious": True, "serious_hospitalisation": True}, "serious_death", "results in death"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(api, users, meddra, participant_a, overrides, field, words):
    response = _post(api, users[Role.INVESTIGATOR], participant_a, **overrides)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["fields"], error
    assert words in " ".join(error["fields"][field])
    assert not AdverseEvent.objects.exists() and not Clock.objects.exists()


def test_grade_5_with_death_is_accepted(make_ae):
    ae = make_ae(grade=5, outcome="fatal", serious=True, serious_death=True, causality_iv="unlikely")
    assert ae.fatal_or_life_threatening


def test_serious_ae_prefills_the_initial_report_and_starts_the_24_hour_clock(make_ae):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    assert report.sequence == 0 and report.snapshot["verbatim_term"] == "Melaena" and report.snapshot["bleeding_severity"] == "major"
    clock = Clock.objects.get(adverse_event=ae)
    assert clock.kind == ClockKind.SAE_INITIAL
    assert clock.due_at - clock.started_at == dt.timedelta(hours=24) and clock.started_at == ae.aware_at


def test_a_draft_serious_ae_starts_nothing_until_submitted(make_ae, users):
    ae = make_ae(submit=False, **SERIOUS)
    assert not Clock.objects.exists()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, data={}, version=ae.version, submit=True)
    assert Clock.objects.filter(adverse_event=ae, kind=ClockKind.SAE_INITIAL).count() == 1


def test_ae_that_becomes_serious_gets_its_report_and_clock(make_ae, users):
    ae = make_ae()
    assert not Clock.objects.exists()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Patient admitted to ICU",
                data={"serious": True, "serious_hospitalisation": True})
    assert SAEReport.objects.filter(adverse_event=ae).count() == 1
    assert Clock.objects.filter(adverse_event=ae, kind=ClockKind.SAE_INITIAL).count() == 1


def test_exempted_event_is_recorded_with_the_exemption_visible_and_no_24_hour_clock(make_ae, api, users):
    ae = make_ae(verbatim_term="Refractory septic shock", llt_code=94000007, serious=True, serious_life_threatening=True, grade=4)
    assert "Protocol exemption" in ae.exemption and "Septic shock" in ae.exemption
    assert not Clock.objects.exists() and not SAEReport.objects.exists()
    body = api(users[Role.MONITOR]).get(f"/api/v1/adverse-events/{ae.pk}/").json()
    assert "Protocol exemption" in body["exemption"]


def test_treatment_emergent_counts_from_the_first_dose_to_day_30(make_ae, users, participant_a):
    first = dt.datetime(2025, 6, 1, 22, 30, tzinfo=dt.UTC)  # 2 June 01:30 in Athens (site A)
    assert make_ae(onset_date=dt.date(2025, 6, 2), aware_at=dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)).treatment_emergent is None  # no dose recorded yet
    participant_mark_randomized(participant=participant_a, subject_id="A-TE1", randomized_at=first - dt.timedelta(hours=1),
                                actor=users[Role.COORDINATOR])
    form_create(actor=users[Role.COORDINATOR], spec=ADMINISTRATION, participant=participant_a, submit=True,
                data={"route": "iv", "dose_number": 1, "given": True, "started_at": first, "duration_minutes": 30,
                      "volume_ml": "20"})
    assert make_ae(onset_date=dt.date(2025, 6, 2), aware_at=dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)).treatment_emergent is True
    assert make_ae(onset_date=dt.date(2025, 6, 1)).treatment_emergent is False
    assert make_ae(onset_date=dt.date(2025, 7, 2), aware_at=dt.datetime(2025, 7, 2, tzinfo=dt.UTC)).treatment_emergent is True
    assert make_ae(onset_date=dt.date(2025, 7, 3), aware_at=dt.datetime(2025, 7, 3, tzinfo=dt.UTC)).treatment_emergent is False


def test_submission_before_awareness_is_refused(make_ae, users):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    with pytest.raises(Exception) as exc:
        sae_report_submit(actor=users[Role.INVESTIGATOR], report=report, version=report.version,
                          submitted_at=ae.aware_at - dt.timedelta(minutes=1), recipient="Sponsor PV", reference="S-1")
    assert exc.value.code.value == "invalid" and "submitted_at" in exc.value.fields
    report.refresh_from_db()
    assert report.status == "draft" and not report.submissions.exists()
    assert Clock.objects.get(adverse_event=ae).met_at is None


def test_submission_meets_the_clock_and_a_follow_up_shows_what_changed(make_ae, users):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    sub = sae_report_submit(actor=users[Role.INVESTIGATOR], report=report, version=report.version,
                            submitted_at=ae.aware_at + dt.timedelta(hours=3), recipient="Sponsor PV", reference="S-1")
    assert not sub.late and sub.submitted_by == users[Role.INVESTIGATOR] and sub.recipient == "Sponsor PV"
    clock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SAE_INITIAL)
    assert clock.met_at == sub.submitted_at
    ae.refresh_from_db()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Transfused",
                data={"anemia": True, "hb_nadir_g_dl": "6.8", "transfusion_units": 2, "outcome": "recovered",
                      "end_date": dt.date(2025, 6, 5)})
    follow = SAEReport.objects.get(adverse_event=ae, sequence=1)
    assert set(follow.changes) == {"anemia", "hb_nadir_g_dl", "transfusion_units", "outcome", "end_date"}
    assert follow.changes["outcome"] == {"old": "recovering", "new": "recovered"}
    fclock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SAE_FOLLOWUP)
    assert fclock.due_at - fclock.started_at == dt.timedelta(hours=24)
    late = sae_report_submit(actor=users[Role.COORDINATOR], report=follow, version=follow.version,
                             submitted_at=fclock.due_at + dt.timedelta(minutes=1) if fclock.due_at + dt.timedelta(minutes=1) < dt.datetime.now(dt.UTC) else fclock.started_at + dt.timedelta(seconds=1),
                             recipient="Sponsor PV", reference="S-1/FU1")
    fclock.refresh_from_db()
    assert fclock.met_at == late.submitted_at


def test_site_staff_of_another_site_cannot_submit(make_ae, make_user, site_b):
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae)
    other = make_user(Role.INVESTIGATOR, sites=[site_b])
    with pytest.raises(Exception) as exc:
        sae_report_submit(actor=other, report=report, version=report.version, submitted_at=ae.aware_at,
                          recipient="Sponsor", reference="x")
    assert exc.value.status == 404
