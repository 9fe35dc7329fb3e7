"""Screening through the services: the log entry, the outcome recomputed (audited), re-screening."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.models import Participant
from ecrf.crf.services import form_update
from ecrf.screening.models import Screening
from ecrf.screening.selectors import phenotypes_for, screening_outcome, withdrawal_for
from ecrf.screening.specs import CENTRAL_LAB, SCREENING
from tests.support.screening import consent, eligible_participant, lab, screen

pytestmark = pytest.mark.django_db


def test_log_entry_creates_participant_and_form_pending_until_lab(users, site_a):
    form = screen(users[Role.COORDINATOR], site_a, "A-001")
    assert form.participant.screening_number == "A-001" and form.participant.site == site_a
    assert form.eligibility == "pending" and form.phenotype is None
    assert set(form.awaiting) >= {"ferritin", "hla_dr", "consent_given"}
    outcome = screening_outcome(form.participant)
    assert outcome.eligibility == "pending" and outcome.consented is False
    assert outcome.sepsis3_at == form.sepsis3_at


def test_outcome_follows_consent_and_lab_and_is_audited(users, site_a):
    coordinator, lab_user = users[Role.COORDINATOR], users[Role.LAB]
    participant = screen(coordinator, site_a, "A-001").participant
    consent(coordinator, participant)
    result = lab(lab_user, participant, Decimal(6000), None)
    screening = Screening.objects.get(participant=participant)
    assert (screening.eligibility, screening.phenotype) == ("eligible", "MALS")
    assert screening.derived_from["ferritin_ng_ml"] == "6000.0"
    # A correction before randomization recomputes the outcome, with the cause in the history.
    form_update(actor=lab_user, spec=CENTRAL_LAB, form=result, data={"ferritin": Decimal(1000), "hla_dr": 7000,
                "hla_dr_sampled_at": result.ferritin_sampled_at, "hla_dr_resulted_at": result.ferritin_resulted_at},
                version=result.version, reason="Transcription error")
    screening.refresh_from_db()
    assert (screening.eligibility, screening.phenotype, screening.ineligibility_reasons) == (
        "not_eligible", None, ["phenotype_neither"])
    latest = screening.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Outcome recomputed after a central-lab result change"
    assert latest.history_user == lab_user
    assert screening_outcome(participant).reasons == ("phenotype_neither",)


def test_every_definite_failure_is_a_reason_code(users, site_a):
    form = screen(users[Role.COORDINATOR], site_a, "A-009", age=17, infection_source="other", excl_dnr=True,
                  neutrophils_per_mm3=300, corticosteroid_mg_per_day=Decimal(400), sofa_score_or_rise=1)
    assert form.eligibility == "not_eligible"
    assert set(form.ineligibility_reasons) == {"age_under_18", "infection_source_not_eligible", "excl_dnr",
                                               "neutropenia", "corticosteroids_above_threshold", "sepsis3_not_met"}


def test_thresholds_come_from_the_study_configuration(users, site_a, study):
    study.protocol_overrides = {"neutrophil_min_per_mm3": 1500, "corticosteroid_max_hydrocortisone_mg_per_day": "100"}
    study.save()
    form = screen(users[Role.COORDINATOR], site_a, "A-010", neutrophils_per_mm3=1200,
                  corticosteroid_mg_per_day=Decimal(150))
    assert {"neutropenia", "corticosteroids_above_threshold"} <= set(form.ineligibility_reasons)
    assert form.derived_from["thresholds"]["neutrophil_min_per_mm3"] == 1500


def test_configured_checklist_extra_criterion(users, site_a, study):
    study.protocol_overrides = {"exclusion_codes": ["dnr"], "extra_exclusion_criteria": ["pregnancy: Pregnancy"]}
    study.save()
    form = screen(users[Role.COORDINATOR], site_a, "A-011", excl_dnr=None, excl_meningitis=True)
    # Meningitis is not configured here: its answer is ignored; dnr and pregnancy are awaited.
    assert "excl_meningitis" not in form.ineligibility_reasons
    assert {"exclusion:dnr", "exclusion:pregnancy"} <= set(form.awaiting)
    form = form_update(actor=users[Role.COORDINATOR], spec=SCREENING, form=form,
                       data={"extra_exclusions": {"pregnancy": True}}, version=form.version, reason="Test result")
    assert "excl_pregnancy" in form.ineligibility_reasons
    with pytest.raises(DomainError) as info:
        form_update(actor=users[Role.COORDINATOR], spec=SCREENING, form=form,
                    data={"extra_exclusions": {"smoker": True}}, version=form.version, reason="x")
    assert "extra_exclusions" in info.value.fields


def test_duplicate_screening_number_is_refused_and_nothing_stored(users, site_a, site_b, make_user):
    screen(users[Role.COORDINATOR], site_a, "X-1")
    with pytest.raises(DomainError) as info:
        screen(users[Role.COORDINATOR], site_a, "X-1")
    assert info.value.status == 400 and "screening_number" in info.value.fields
    assert Participant.objects.filter(screening_number="X-1").count() == 1
    # Unique per site: the same number at another site is another patient.
    screen(make_user(Role.COORDINATOR, sites=[site_b]), site_b, "X-1")
    assert Participant.objects.filter(screening_number="X-1").count() == 2


def test_invalid_screening_data_stores_no_participant(users, site_a):
    with pytest.raises(DomainError) as info:
        screen(users[Role.COORDINATOR], site_a, "A-002", infection_source="UTI")
    assert "infection_source" in info.value.fields
    with pytest.raises(DomainError) as info:
        screen(users[Role.COORDINATOR], site_a, "A-003", sepsis3_at=timezone.now() + dt.timedelta(hours=2))
    assert "sepsis3_at" in info.value.fields
    with pytest.raises(DomainError) as info:
        screen(users[Role.COORDINATOR], site_a, "A-004", age=-3)
    assert "age" in info.value.fields
    assert not Participant.objects.exists() and not Screening.objects.exists()


def test_only_site_staff_of_the_site_screen(users, site_b, site_a):
    for role in (Role.MONITOR, Role.LAB, Role.DATA_MANAGER, Role.PHARMACIST):
        with pytest.raises(DomainError) as info:
            screen(users[role], site_a, "A-100")
        assert info.value.status == 403, role
    with pytest.raises(DomainError) as info:
        screen(users[Role.COORDINATOR], site_b, "B-100")
    assert info.value.status == 403
    assert not Participant.objects.exists()


def test_rescreening_links_to_a_failed_screening(users, site_a, study):
    coordinator = users[Role.COORDINATOR]
    failed = screen(coordinator, site_a, "A-020", age=17)
    pending = screen(coordinator, site_a, "A-021")
    again = screen(coordinator, site_a, "A-022", previous_screening_number="A-020")
    assert again.rescreen_of == failed.participant
    with pytest.raises(DomainError) as info:
        screen(coordinator, site_a, "A-023", previous_screening_number="A-020")
    assert "already repeated as A-022" in info.value.fields["previous_screening_number"][0]
    with pytest.raises(DomainError) as info:
        screen(coordinator, site_a, "A-024", previous_screening_number=pending.participant.screening_number)
    assert "did not fail" in info.value.fields["previous_screening_number"][0]
    with pytest.raises(DomainError) as info:
        screen(coordinator, site_a, "A-025", previous_screening_number="A-999")
    assert "No screening A-999" in info.value.fields["previous_screening_number"][0]
    study.protocol_overrides = {"allow_rescreening": False}
    study.save()
    with pytest.raises(DomainError) as info:
        screen(coordinator, site_a, "A-026", previous_screening_number="A-020")
    assert "not allowed" in info.value.fields["previous_screening_number"][0]


def test_phenotypes_for_bulk(users, site_a):
    p1 = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-1", "MALS")
    p2 = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-2", "immunoparalysis")
    p3 = screen(users[Role.COORDINATOR], site_a, "A-3").participant
    assert phenotypes_for([p1.pk, p2.pk, p3.pk, 999999]) == {p1.pk: "MALS", p2.pk: "immunoparalysis", p3.pk: None,
                                                            999999: None}
    assert withdrawal_for(p1) is None
