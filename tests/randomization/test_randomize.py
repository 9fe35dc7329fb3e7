"""Randomize: the gate (eligible, consented, not yet randomized, own site, within 72 hours), the
slot taken in order, the blinded facts set, the pharmacists told; errors change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.core.errors import DomainError
from ecrf.crf.models import Participant
from ecrf.crf.services import form_update
from ecrf.notifications.models import Notification
from ecrf.randomization.models import Assignment, Slot, Stratum
from ecrf.randomization.services import participant_randomize
from ecrf.screening.models import CentralLabResult, Screening, ScreeningCorrection
from ecrf.screening.specs import CENTRAL_LAB
from tests.support.screening import consent, eligible_participant, lab, screen

pytestmark = pytest.mark.django_db


def snapshot():
    return (list(Participant.objects.values_list("pk", "subject_id", "randomized_at", "version").order_by("pk")),
            Assignment.objects.count(), list(Stratum.objects.values_list("key", "next_sequence").order_by("key")),
            Notification.objects.count(), list(Screening.objects.values_list("pk", "version", "phenotype_fixed_at")))


def test_randomize_takes_the_next_slot_and_sets_the_blinded_facts(users, site_a, allocation, make_user):
    coordinator = users[Role.COORDINATOR]
    p1 = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1", "MALS")
    p2 = eligible_participant(coordinator, users[Role.LAB], site_a, "A-2", "MALS")
    r1 = participant_randomize(actor=coordinator, participant=p1)
    r2 = participant_randomize(actor=users[Role.INVESTIGATOR], participant=p2)
    assert (r1.subject_id, r2.subject_id) == ("A-001", "A-002")
    p1.refresh_from_db()
    assert p1.subject_id == "A-001" and p1.randomized_at == r1.randomized_at and p1.version == 2
    slots = {a.participant_id: a.slot for a in Assignment.objects.select_related("slot", "slot__stratum")}
    assert (slots[p1.pk].stratum.key, slots[p1.pk].sequence) == ("A|MALS", 1)
    assert (slots[p2.pk].stratum.key, slots[p2.pk].sequence) == ("A|MALS", 2)
    assert Stratum.objects.get(key="A|MALS").next_sequence == 3
    screening = Screening.objects.get(participant=p1)
    assert screening.phenotype_fixed_at == r1.randomized_at and screening.phenotype == "MALS"
    assert p1.history.order_by("-history_id").first().history_change_reason == "Randomized"
    # The site's pharmacist is told, with words that do not depend on the arm.
    note = Notification.objects.get(recipient=users[Role.PHARMACIST], source=f"crf.participant:{p1.pk}")
    assert note.kind == "preparation_due" and "A-001" in note.subject
    for word in ("active", "placebo", "anakinra", "interferon"):
        assert word not in (note.subject + note.body).lower()


def test_strata_by_phenotype_are_separate_sequences(users, site_a, allocation):
    coordinator = users[Role.COORDINATOR]
    p1 = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1", "immunoparalysis")
    participant_randomize(actor=coordinator, participant=p1)
    assert Assignment.objects.get(participant_id=p1.pk).slot.stratum.key == "A|immunoparalysis"
    assert Assignment.objects.get(participant_id=p1.pk).phenotype == "immunoparalysis"


def test_second_request_is_409_and_changes_nothing(api, users, site_a, allocation):
    coordinator = users[Role.COORDINATOR]
    p = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    first = api(coordinator).post(f"/api/v1/participants/{p.pk}/randomize/")
    assert first.status_code == 200, first.json()
    assert first.json()["subject_id"] == "A-001" and first.json()["randomized"] is True
    before = snapshot()
    second = api(coordinator).post(f"/api/v1/participants/{p.pk}/randomize/")
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_randomized"
    assert "already randomized" in second.json()["error"]["message"]
    assert snapshot() == before


@pytest.mark.parametrize("case", ["ineligible", "pending", "unconsented", "consent_withdrawn", "out_of_window",
                                  "draft_screening", "no_list"])
def test_refused_states_are_409_with_a_specific_message_and_change_nothing(api, users, site_a, allocation, case, study):
    coordinator, lab_user = users[Role.COORDINATOR], users[Role.LAB]
    if case == "ineligible":
        p = eligible_participant(coordinator, lab_user, site_a, "A-1", "neither")
        expected = "not eligible: Neither MALS nor immunoparalysis"
    elif case == "pending":
        p = screen(coordinator, site_a, "A-1").participant
        consent(coordinator, p)
        expected = "pending"
    elif case == "unconsented":
        p = screen(coordinator, site_a, "A-1").participant
        expected = "no informed consent is recorded"
    elif case == "consent_withdrawn":
        from ecrf.screening.models import Consent
        from ecrf.screening.services import consent_withdraw

        p = eligible_participant(coordinator, lab_user, site_a, "A-1")
        c = Consent.objects.get(participant=p)
        consent_withdraw(actor=coordinator, consent=c, withdrawal_type="treatment",
                         withdrawn_on=timezone.localtime(timezone.now(), ZoneInfo("Europe/Athens")).date(), version=c.version)
        expected = "consent was withdrawn"
    elif case == "out_of_window":
        p = eligible_participant(coordinator, lab_user, site_a, "A-1",
                                 sepsis3_at=timezone.now() - dt.timedelta(hours=73))
        expected = "within 72 hours"
    elif case == "draft_screening":
        form = screen(coordinator, site_a, "A-1", submit=False)
        p = form.participant
        consent(coordinator, p)
        lab(lab_user, p, Decimal(6000), 9000)
        expected = "Submit the screening form"
    else:
        study.protocol_overrides = {"stratification_factors": ["phenotype"]}
        study.save()
        p = eligible_participant(coordinator, lab_user, site_a, "A-1")
        expected = "No allocation list covers stratum MALS"
    before = snapshot()
    response = api(coordinator).post(f"/api/v1/participants/{p.pk}/randomize/")
    assert response.status_code == 409, response.json()
    assert expected in response.json()["error"]["message"]
    assert snapshot() == before


def test_other_site_is_404_and_roles_without_the_right_are_403(api, users, site_b, allocation, make_user):
    b_coordinator = make_user(Role.COORDINATOR, sites=[site_b])
    p = eligible_participant(b_coordinator, users[Role.LAB], site_b, "B-1")
    before = snapshot()
    assert api(users[Role.COORDINATOR]).post(f"/api/v1/participants/{p.pk}/randomize/").status_code == 404
    for role in (Role.MONITOR, Role.DATA_MANAGER, Role.PHARMACIST, Role.LAB, Role.STATISTICIAN, Role.ADMIN):
        assert api(users[role]).post(f"/api/v1/participants/{p.pk}/randomize/").status_code == 403, role
    assert api(users[Role.COORDINATOR]).post("/api/v1/participants/999999/randomize/").status_code == 404
    assert snapshot() == before
    assert api(b_coordinator).post(f"/api/v1/participants/{p.pk}/randomize/").status_code == 200


def test_used_up_stratum_is_409(users, site_a, site_b):
    from ecrf.randomization.services import allocation_list_generate

    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="s", slots_per_stratum=1, block_sizes=[2])
    coordinator = users[Role.COORDINATOR]
    for n in (1, 2):
        participant_randomize(actor=coordinator, participant=eligible_participant(coordinator, users[Role.LAB], site_a, f"A-{n}"))
    third = eligible_participant(coordinator, users[Role.LAB], site_a, "A-3")
    with pytest.raises(DomainError) as info:
        participant_randomize(actor=coordinator, participant=third)
    assert info.value.status == 409 and "used up" in info.value.message


def test_lab_correction_after_randomization_keeps_the_phenotype_and_records_a_deviation(users, site_a, allocation):
    coordinator, lab_user = users[Role.COORDINATOR], users[Role.LAB]
    p = eligible_participant(coordinator, lab_user, site_a, "A-1", "MALS")
    participant_randomize(actor=coordinator, participant=p)
    result = CentralLabResult.objects.get(participant=p)
    form_update(actor=lab_user, spec=CENTRAL_LAB, form=result, data={"ferritin": Decimal(900), "hla_dr": 2000},
                version=result.version, reason="Lab corrected a transcription error")
    screening = Screening.objects.get(participant=p)
    assert (screening.eligibility, screening.phenotype) == ("eligible", "MALS")  # fixed: stratum and therapy
    assert Assignment.objects.get(participant_id=p.pk).phenotype == "MALS"
    correction = ScreeningCorrection.objects.get(participant=p)
    assert (correction.fixed_phenotype, correction.computed_phenotype) == ("MALS", "immunoparalysis")
    assert correction.cause == "central-lab result"
    # The same discrepancy again is not recorded twice.
    result.refresh_from_db()
    form_update(actor=lab_user, spec=CENTRAL_LAB, form=result, data={"hla_dr": 2100}, version=result.version, reason="Recount")
    assert ScreeningCorrection.objects.filter(participant=p).count() == 1


def test_randomization_page_with_confirmation(client, users, site_a, allocation):
    coordinator = users[Role.COORDINATOR]
    p = eligible_participant(coordinator, users[Role.LAB], site_a, "A-1")
    client.force_login(coordinator)
    page = client.get(f"/participants/{p.pk}/")
    assert f'/participants/{p.pk}/randomize/' in page.content.decode()
    confirm = client.get(f"/participants/{p.pk}/randomize/")
    assert confirm.status_code == 200 and "Confirm randomization" in confirm.content.decode()
    assert not Participant.objects.get(pk=p.pk).is_randomized  # GET changes nothing
    done = client.post(f"/participants/{p.pk}/randomize/", {"confirm": "1"})
    assert done.status_code == 302
    assert Participant.objects.get(pk=p.pk).subject_id == "A-001"
    again = client.post(f"/participants/{p.pk}/randomize/", {"confirm": "1"})
    assert again.status_code == 409 and "already randomized" in again.content.decode()
    assert Slot.objects.filter(assignment__isnull=False).count() == 1
