"""Consent lifecycle: representative's consent then the patient's confirmation or refusal;
withdrawal by type with its date; sampling only after consent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.services import form_create, form_update
from ecrf.screening.models import Consent, Screening
from ecrf.screening.selectors import screening_outcome, withdrawal_for
from ecrf.screening.services import consent_record_patient_decision, consent_withdraw
from ecrf.screening.specs import CONSENT
from tests.support.screening import consent, eligible_participant, lab, screen

pytestmark = pytest.mark.django_db


def site_today():
    # Withdrawal dates are calendar dates at the site (site A: Europe/Athens).
    return timezone.localtime(timezone.now(), ZoneInfo("Europe/Athens")).date()


def test_representative_needs_relation_and_patient_has_none(users, site_a):
    participant = screen(users[Role.COORDINATOR], site_a, "A-1").participant
    with pytest.raises(DomainError) as info:
        consent(users[Role.COORDINATOR], participant, by="representative", representative_relation="")
    assert "representative_relation" in info.value.fields
    with pytest.raises(DomainError) as info:
        consent(users[Role.COORDINATOR], participant, by="patient", representative_relation="spouse")
    assert "representative_relation" in info.value.fields
    with pytest.raises(DomainError) as info:
        consent(users[Role.COORDINATOR], participant, at=timezone.now() + dt.timedelta(hours=1))
    assert "consented_at" in info.value.fields
    assert not Consent.objects.exists()


def test_configured_form_versions(users, site_a, study):
    study.protocol_overrides = {"consent_form_versions": ["v2.0", "v2.1"]}
    study.save()
    participant = screen(users[Role.COORDINATOR], site_a, "A-1").participant
    with pytest.raises(DomainError) as info:
        consent(users[Role.COORDINATOR], participant, form_version="v1.0")
    assert "form_version" in info.value.fields
    consent(users[Role.COORDINATOR], participant, form_version="v2.1")


def test_refused_consent_makes_not_eligible(users, site_a):
    participant = screen(users[Role.COORDINATOR], site_a, "A-1").participant
    consent(users[Role.COORDINATOR], participant, decision="refused")
    assert "no_consent" in Screening.objects.get().ineligibility_reasons


def test_sampling_before_consent_refused_also_when_consent_time_is_corrected(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = screen(coordinator, site_a, "A-1").participant
    with pytest.raises(DomainError) as info:
        lab(users[Role.LAB], participant, Decimal(900), 3000)
    assert "after consent" in str(info.value.fields)
    record = consent(coordinator, participant, at=timezone.now() - dt.timedelta(hours=3))
    lab(users[Role.LAB], participant, Decimal(900), 3000, sampled_at=timezone.now() - dt.timedelta(hours=2))
    # Moving the consent after the sample would make the sample precede consent: refused.
    with pytest.raises(DomainError) as info:
        form_update(actor=coordinator, spec=CONSENT, form=record, data={"consented_at": timezone.now() - dt.timedelta(hours=1)},
                    version=record.version, reason="Wrong time")
    assert "before this consent time" in info.value.fields["consented_at"][0]


def test_patient_confirms_representatives_consent(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    record = Consent.objects.get(participant=participant)
    record = form_update(actor=coordinator, spec=CONSENT, form=record,
                         data={"consent_by": "representative", "representative_relation": "child"},
                         version=record.version, reason="Given by the daughter")
    decided = timezone.now() - dt.timedelta(minutes=5)
    with pytest.raises(DomainError) as info:
        consent_record_patient_decision(actor=coordinator, consent=record, decision="confirmed", decided_at=decided,
                                        version=record.version)
    assert "form_version" in info.value.fields
    record = consent_record_patient_decision(actor=coordinator, consent=record, decision="confirmed", decided_at=decided,
                                             version=record.version, form_version="v1.0-patient")
    assert (record.patient_decision, record.patient_decision_at, record.patient_form_version) == (
        "confirmed", decided, "v1.0-patient")
    assert record.history.order_by("-history_id").first().history_change_reason == "Patient confirmed the representative's consent"
    assert screening_outcome(participant).consented is True
    with pytest.raises(DomainError) as info:
        consent_record_patient_decision(actor=coordinator, consent=record, decision="refused", decided_at=decided,
                                        version=record.version)
    assert info.value.status == 409


def test_patient_refusal_before_randomization_ends_eligibility(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = screen(coordinator, site_a, "A-1").participant
    record = consent(coordinator, participant, by="representative")
    lab(users[Role.LAB], participant, Decimal(6000), 9000)
    assert Screening.objects.get().eligibility == "eligible"
    consent_record_patient_decision(actor=coordinator, consent=record, decision="refused",
                                    decided_at=timezone.now() - dt.timedelta(minutes=1), version=record.version)
    screening = Screening.objects.get()
    assert screening.eligibility == "not_eligible" and screening.ineligibility_reasons == ["no_consent"]
    assert screening_outcome(participant).consented is False


def test_patient_decision_only_on_a_representatives_consent_and_not_before_it(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = screen(coordinator, site_a, "A-1").participant
    record = consent(coordinator, participant, by="patient")
    with pytest.raises(DomainError) as info:
        consent_record_patient_decision(actor=coordinator, consent=record, decision="confirmed",
                                        decided_at=timezone.now(), version=record.version, form_version="v1")
    assert info.value.status == 409
    participant2 = screen(coordinator, site_a, "A-2").participant
    record2 = consent(coordinator, participant2, by="representative")
    with pytest.raises(DomainError) as info:
        consent_record_patient_decision(actor=coordinator, consent=record2, decision="confirmed",
                                        decided_at=record2.consented_at - dt.timedelta(hours=1), version=record2.version,
                                        form_version="v1")
    assert "decided_at" in info.value.fields
    with pytest.raises(DomainError) as info:
        consent_record_patient_decision(actor=coordinator, consent=record2, decision="confirmed",
                                        decided_at=timezone.now(), version=record2.version + 5, form_version="v1")
    assert info.value.status == 409 and info.value.code.value == "stale_version"


@pytest.mark.parametrize("kind", ["treatment", "data_collection", "data_use"])
def test_each_withdrawal_type_recorded_with_its_date(users, site_a, study, kind):
    if kind == "data_use":
        study.protocol_overrides = {"allow_withdrawal_of_collected_data": True}
        study.save()
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    record = Consent.objects.get(participant=participant)
    today = site_today()
    record = consent_withdraw(actor=coordinator, consent=record, withdrawal_type=kind, withdrawn_on=today,
                              version=record.version, reason="Family's wish")
    assert (record.withdrawal_type, record.withdrawn_on) == (kind, today)
    found = withdrawal_for(participant)
    assert (found.type, found.date) == (kind, today)
    reason = record.history.order_by("-history_id").first().history_change_reason
    assert reason.startswith("Consent withdrawn: ") and reason.endswith("Family's wish")
    # Before randomization, a withdrawal ends eligibility.
    assert Screening.objects.get(participant=participant).ineligibility_reasons == ["no_consent"]


def test_data_use_withdrawal_only_where_configured(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    record = Consent.objects.get(participant=participant)
    with pytest.raises(DomainError) as info:
        consent_withdraw(actor=coordinator, consent=record, withdrawal_type="data_use", withdrawn_on=site_today(),
                         version=record.version)
    assert "withdrawal_type" in info.value.fields
    assert Consent.objects.get(pk=record.pk).withdrawal_type == ""


def test_withdrawal_widens_never_narrows_and_dates_are_checked(users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    record = Consent.objects.get(participant=participant)
    with pytest.raises(DomainError) as info:
        consent_withdraw(actor=coordinator, consent=record, withdrawal_type="treatment",
                         withdrawn_on=site_today() + dt.timedelta(days=2), version=record.version)
    assert "withdrawn_on" in info.value.fields
    with pytest.raises(DomainError) as info:
        consent_withdraw(actor=coordinator, consent=record, withdrawal_type="treatment",
                         withdrawn_on=site_today() - dt.timedelta(days=30), version=record.version)
    assert "Before the consent." in info.value.fields["withdrawn_on"]
    record = consent_withdraw(actor=coordinator, consent=record, withdrawal_type="treatment",
                              withdrawn_on=site_today(), version=record.version)
    with pytest.raises(DomainError) as info:
        consent_withdraw(actor=coordinator, consent=record, withdrawal_type="treatment",
                         withdrawn_on=site_today(), version=record.version)
    assert info.value.status == 409
    record = consent_withdraw(actor=coordinator, consent=record, withdrawal_type="data_collection",
                              withdrawn_on=site_today(), version=record.version)
    assert withdrawal_for(participant).type == "data_collection"


def test_only_site_staff_record_consent_decisions(users, site_a):
    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-1")
    record = Consent.objects.get(participant=participant)
    for role, status in ((Role.MONITOR, 403), (Role.LAB, 404), (Role.PHARMACIST, 404)):
        with pytest.raises(DomainError) as info:
            consent_withdraw(actor=users[role], consent=record, withdrawal_type="treatment",
                             withdrawn_on=site_today(), version=record.version)
        assert info.value.status == status, role


def test_consent_api_withdraw_and_decision(api, users, site_a):
    coordinator = users[Role.COORDINATOR]
    participant = screen(coordinator, site_a, "A-1").participant
    record = form_create(actor=coordinator, spec=CONSENT, participant=participant,
                         data={"consent_by": "representative", "representative_relation": "sibling", "form_version": "v1",
                               "consented_at": timezone.now() - dt.timedelta(hours=1)}, submit=True)
    client = api(coordinator)
    url = f"/api/v1/consents/{record.pk}/"
    response = client.post(url + "patient-decision/", {"expected_version": 1, "decision": "maybe",
                                                      "decided_at": timezone.now().isoformat()}, format="json")
    assert response.status_code == 400 and "decision" in response.json()["error"]["fields"]
    response = client.post(url + "patient-decision/", {"expected_version": 1, "decision": "confirmed", "form_version": "v1",
                                                      "decided_at": timezone.now().isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["patient_decision"] == "confirmed" and response.json()["version"] == 2
    response = client.post(url + "withdraw/", {"expected_version": 2, "withdrawal_type": "data_use",
                                               "withdrawn_on": str(site_today())}, format="json")
    assert response.status_code == 400
    response = client.post(url + "withdraw/", {"expected_version": 2, "withdrawal_type": "treatment",
                                               "withdrawn_on": str(site_today())}, format="json")
    assert response.status_code == 200 and response.json()["withdrawal_type"] == "treatment"
    assert response.json()["withdrawn_on"] == str(site_today())
