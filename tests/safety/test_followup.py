"""Follow-up on request: the safety officer asks the site, the follow-up clock starts, the site
staff are notified through the outbox, and the site's follow-up report meets the clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.services import form_update
from ecrf.notifications.models import Notification
from safety.clocks import ClockKind
from safety.errors import SafetyError
from safety.models import Clock, FollowUpRequest, SAEReport
from safety.services import FOLLOWUP_KIND, followup_request, sae_report_submit
from safety.specs import AE_SPEC
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db


def _submitted_sae(make_ae, users):  # noqa: ANN001, ANN202
    ae = make_ae(**SERIOUS)
    report = SAEReport.objects.get(adverse_event=ae, sequence=0)
    sae_report_submit(actor=users[Role.INVESTIGATOR], report=report, version=report.version,
                      submitted_at=ae.aware_at + dt.timedelta(hours=2), recipient="Sponsor", reference="SAE-1")
    return ae


def test_a_safety_officer_asks_for_follow_up(make_ae, users, make_user, site_b, api):
    ae = _submitted_sae(make_ae, users)
    elsewhere = make_user(Role.INVESTIGATOR, sites=[site_b])
    before = timezone.now()
    response = api(users[Role.SAFETY_OFFICER]).post(
        f"/api/v1/sae-reports/{ae.sae_reports.get(sequence=0).pk}/request-followup/",
        {"question": "Please send the discharge letter and the latest hemoglobin."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sequence"] == 1 and body["followup"] and body["status"] == "draft" and body["changes"] == {}
    req = FollowUpRequest.objects.get()
    assert req.requested_by == users[Role.SAFETY_OFFICER] and req.report.sequence == 1
    clock = Clock.objects.get(adverse_event=ae, kind=ClockKind.SAE_FOLLOWUP)
    assert req.clock == clock and clock.started_at >= before and clock.due_at == clock.started_at + dt.timedelta(hours=24)
    # The site's investigator and coordinator are notified; nobody at another site, not the officer.
    notes = Notification.objects.filter(kind=FOLLOWUP_KIND)
    assert {n.recipient for n in notes} == {users[Role.INVESTIGATOR], users[Role.COORDINATOR]}
    assert elsewhere not in {n.recipient for n in notes}
    note = notes.first()
    assert "discharge letter" in note.body and f"/safety/ae/{ae.pk}/" == note.link and "AE #" in note.subject
    assert "placebo" not in note.body.lower() and "active" not in note.body.lower()
    # The site answers with new information and submits the follow-up report: the clock is met.
    ae.refresh_from_db()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Follow-up",
                data={"outcome": "recovered", "end_date": dt.date(2025, 6, 10)})
    report = SAEReport.objects.get(adverse_event=ae, sequence=1)
    assert set(report.changes) == {"outcome", "end_date"}
    assert Clock.objects.filter(adverse_event=ae, kind=ClockKind.SAE_FOLLOWUP).count() == 1  # no second clock
    sent = timezone.now()
    sae_report_submit(actor=users[Role.COORDINATOR], report=report, version=report.version, submitted_at=sent,
                      recipient="Sponsor", reference="SAE-1-FU1")
    clock.refresh_from_db()
    assert clock.met_at == sent


def test_follow_up_request_refusals(make_ae, users, api):
    ae = make_ae(**SERIOUS)  # initial report not submitted yet
    with pytest.raises(DomainError) as exc:
        followup_request(actor=users[Role.SAFETY_OFFICER], ae=ae, question="More?")
    assert exc.value.status == 409 and "initial SAE report" in exc.value.message
    # The API names this refusal with its own code (safety.errors.SafetyError), not a generic conflict.
    report = SAEReport.objects.get(adverse_event=ae, sequence=0)
    body = api(users[Role.SAFETY_OFFICER]).post(f"/api/v1/sae-reports/{report.pk}/request-followup/", {"question": "More?"},
                                               format="json")
    assert body.status_code == 409
    assert body.json()["error"]["code"] == "followup_before_initial_report" == SafetyError.FOLLOWUP_BEFORE_INITIAL_REPORT
    ae = _submitted_sae(make_ae, users)
    with pytest.raises(DomainError) as exc:
        followup_request(actor=users[Role.SAFETY_OFFICER], ae=ae, question="  ")
    assert exc.value.status == 400 and "question" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        followup_request(actor=users[Role.INVESTIGATOR], ae=ae, question="More?")
    assert exc.value.status == 403
    assert not FollowUpRequest.objects.exists() and not Notification.objects.filter(kind=FOLLOWUP_KIND).exists()
    assert not Clock.objects.filter(kind=ClockKind.SAE_FOLLOWUP).exists()
    exempt = make_ae(verbatim_term="Refractory septic shock", llt_code=94000007, serious=True, serious_life_threatening=True, grade=4)
    assert exempt.is_exempt
    with pytest.raises(DomainError) as exc:
        followup_request(actor=users[Role.SAFETY_OFFICER], ae=exempt, question="More?")
    assert exc.value.status == 409 and "exempted" in exc.value.message
    assert exc.value.as_dict()["error"]["code"] == "followup_on_exempt_event"


def test_a_second_request_joins_the_open_follow_up(make_ae, users):
    ae = _submitted_sae(make_ae, users)
    first = followup_request(actor=users[Role.SAFETY_OFFICER], ae=ae, question="Discharge letter?")
    second = followup_request(actor=users[Role.SAFETY_OFFICER], ae=ae, question="And the transfusion count?")
    assert first.report == second.report and first.clock == second.clock
    assert Notification.objects.filter(kind=FOLLOWUP_KIND).count() == 4  # two requests x two site staff


def test_the_page_asks_for_follow_up(make_ae, users):
    ae = _submitted_sae(make_ae, users)
    officer = Client()
    officer.force_login(users[Role.SAFETY_OFFICER])
    page = officer.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "Ask the site for follow-up" in page
    assert officer.post(f"/safety/ae/{ae.pk}/request-followup/", {"question": ""}).status_code == 400
    response = officer.post(f"/safety/ae/{ae.pk}/request-followup/", {"question": "Discharge letter, please."})
    assert response.status_code == 302
    site = Client()
    site.force_login(users[Role.INVESTIGATOR])
    page = site.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "Discharge letter, please." in page and "Ask the site for follow-up" not in page
    assert 'data-testid="report-1"' in page
