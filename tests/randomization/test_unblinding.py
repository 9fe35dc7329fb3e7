"""Unblinding reveals one participant to one user, audited; study unblinding after the lock."""

from __future__ import annotations

import pytest
from django.core import mail

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError
from ecrf.crf.models import LockScope, Participant
from ecrf.notifications.models import Notification
from ecrf.randomization.models import Assignment, Unblinding
from ecrf.randomization.services import participant_randomize
from ecrf.randomization.unblinding import (
    assignment_visible_to,
    participant_emergency_unblind,
    reveal_for_susar,
    study_unblind,
    unblinding_notify_safety_contact,
)
from tests.conftest import PASSWORD
from tests.support.screening import eligible_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def randomized(users, site_a, allocation):
    coordinator = users[Role.COORDINATOR]
    out = []
    for n in (1, 2):
        p = eligible_participant(coordinator, users[Role.LAB], site_a, f"A-{n}")
        participant_randomize(actor=coordinator, participant=p)
        p.refresh_from_db()
        out.append(p)
    return out


def arm_of(p):
    return Assignment.objects.get(participant_id=p.pk).slot.arm


def test_visibility_matrix(users, randomized, make_user, site_b):
    p = randomized[0]
    assert assignment_visible_to(users[Role.STATISTICIAN], p) == arm_of(p)
    assert assignment_visible_to(users[Role.PHARMACIST], p) == arm_of(p)
    assert assignment_visible_to(make_user(Role.PHARMACIST, sites=[site_b]), p) is None  # another site's pharmacist
    for role in (Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SAFETY_OFFICER, Role.LAB,
                 Role.SPONSOR, Role.ADMIN, Role.DSMB, Role.PHARMACOVIGILANCE):
        assert assignment_visible_to(users[role], p) is None, role


def test_emergency_unblinding_reveals_one_participant_to_one_user(api, users, randomized, make_user):
    investigator = users[Role.INVESTIGATOR]
    other_investigator = make_user(Role.INVESTIGATOR)
    p, q = randomized
    response = api(investigator).post(f"/api/v1/participants/{p.pk}/unblind/",
                                      {"reason": "Anaphylaxis; treating team must know", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"participant": p.pk, "subject_id": p.subject_id, "arm": arm_of(p)}
    assert assignment_visible_to(investigator, p) == arm_of(p)
    assert assignment_visible_to(investigator, q) is None
    assert assignment_visible_to(other_investigator, p) is None
    assert Participant.objects.get(pk=p.pk).emergency_unblinded is True
    assert Participant.objects.get(pk=q.pk).emergency_unblinded is False
    event = Event.objects.get(kind=EventKind.UNBLINDING)
    assert event.actor == investigator and event.object_id == str(p.pk) and event.detail["scope"] == "emergency"
    assert event.reason == "Anaphylaxis; treating team must know"
    # The data managers are told, without the arm; the safety contact by e-mail, once.
    note = Notification.objects.get(recipient=users[Role.DATA_MANAGER], kind="emergency_unblinding")
    for word in ("active", "placebo", "anakinra", "interferon"):
        assert word not in (note.subject + note.body).lower()
    record = Unblinding.objects.get()
    assert unblinding_notify_safety_contact(unblinding_id=record.pk) is True
    assert unblinding_notify_safety_contact(unblinding_id=record.pk) is False
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["safety@example.org"]
    assert "active" not in mail.outbox[0].body.lower() and "placebo" not in mail.outbox[0].body.lower()


def test_safety_contact_mail_enqueued_on_commit(users, randomized, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    from ecrf.notifications import tasks as note_tasks
    from ecrf.randomization import tasks

    monkeypatch.setattr(tasks.notify_safety_contact, "delay", lambda pk: sent.append(pk))
    monkeypatch.setattr(note_tasks.deliver_pending, "delay", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        participant_emergency_unblind(actor=users[Role.INVESTIGATOR], participant=randomized[0], reason="Emergency",
                                      password=PASSWORD)
    assert sent == [Unblinding.objects.get().pk]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"reason": "", "password": PASSWORD}, 400, "reason"),
    ({"reason": "Emergency", "password": "wrong-password"}, 403, "password"),
    ({"reason": "Emergency"}, 403, "password"),
])
def test_refused_unblinding_changes_nothing(api, users, randomized, body, status, field):
    p = randomized[0]
    response = api(users[Role.INVESTIGATOR]).post(f"/api/v1/participants/{p.pk}/unblind/", body, format="json")
    assert response.status_code == status and field in response.json()["error"]["fields"]
    assert "arm" not in response.json()
    assert not Unblinding.objects.exists() and not Participant.objects.get(pk=p.pk).emergency_unblinded
    assert not Event.objects.filter(kind=EventKind.UNBLINDING).exists()
    if status == 403 and body.get("password"):
        assert Event.objects.filter(kind=EventKind.REAUTH_FAILED, actor=users[Role.INVESTIGATOR]).exists()


def test_only_investigators_of_the_site(api, users, randomized, make_user, site_b):
    p = randomized[0]
    for role in (Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER, Role.PHARMACIST, Role.ADMIN, Role.STATISTICIAN):
        response = api(users[role]).post(f"/api/v1/participants/{p.pk}/unblind/", {"reason": "x", "password": PASSWORD},
                                         format="json")
        assert response.status_code == 403, role
    b_investigator = make_user(Role.INVESTIGATOR, sites=[site_b])
    response = api(b_investigator).post(f"/api/v1/participants/{p.pk}/unblind/",
                                        {"reason": "x", "password": PASSWORD}, format="json")
    assert response.status_code == 404
    assert not Unblinding.objects.exists()


def test_not_randomized_is_409(users, site_a, allocation):
    p = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-9")
    with pytest.raises(DomainError) as info:
        participant_emergency_unblind(actor=users[Role.INVESTIGATOR], participant=p, reason="x", password=PASSWORD)
    assert info.value.status == 409


def test_pharmacovigilance_reveal_for_susar(users, randomized):
    pv = users[Role.PHARMACOVIGILANCE]
    p, q = randomized
    with pytest.raises(DomainError) as info:
        reveal_for_susar(actor=pv, participant=p, reason="Potential SUSAR", password="nope")
    assert info.value.status == 403 and not Unblinding.objects.exists()
    with pytest.raises(DomainError) as info:
        reveal_for_susar(actor=users[Role.INVESTIGATOR], participant=p, reason="x", password=PASSWORD)
    assert info.value.status == 403
    assert reveal_for_susar(actor=pv, participant=p, reason="Potential SUSAR: hepatitis", password=PASSWORD) == arm_of(p)
    assert assignment_visible_to(pv, p) == arm_of(p) and assignment_visible_to(pv, q) is None
    assert not Participant.objects.get(pk=p.pk).emergency_unblinded  # no flag: the case stays with PV
    assert Event.objects.get(kind=EventKind.UNBLINDING).detail["scope"] == "susar"
    assert not Notification.objects.filter(kind="emergency_unblinding").exists()


def test_study_unblinding_only_after_the_study_lock(users, randomized):
    statistician = users[Role.STATISTICIAN]
    with pytest.raises(DomainError) as info:
        study_unblind(actor=statistician, reason="Final analysis", password=PASSWORD)
    assert info.value.status == 409 and "not locked" in info.value.message
    LockScope.objects.create(level="study", kind="lock", reason="Database lock")
    with pytest.raises(DomainError) as info:
        study_unblind(actor=users[Role.DATA_MANAGER], reason="x", password=PASSWORD)
    assert info.value.status == 403
    record = study_unblind(actor=statistician, reason="Final analysis", password=PASSWORD)
    assert record.kind == "study" and Event.objects.get(kind=EventKind.UNBLINDING).detail["scope"] == "study"
    with pytest.raises(DomainError) as info:
        study_unblind(actor=statistician, reason="again", password=PASSWORD)
    assert info.value.status == 409


def test_unblinding_page(client, users, randomized):
    p = randomized[0]
    client.force_login(users[Role.INVESTIGATOR])
    page = client.get(f"/participants/{p.pk}/")
    assert "Emergency unblinding" in page.content.decode() and 'data-testid="arm"' not in page.content.decode()
    wrong = client.post(f"/participants/{p.pk}/unblind/", {"reason": "Emergency", "password": "bad"})
    assert wrong.status_code == 200 and "Incorrect password." in wrong.content.decode()
    done = client.post(f"/participants/{p.pk}/unblind/", {"reason": "Emergency", "password": PASSWORD})
    assert done.status_code == 200 and f'data-testid="arm">{arm_of(p)}<' in done.content.decode()
    page = client.get(f"/participants/{p.pk}/").content.decode()
    assert f'data-testid="arm"><strong>{arm_of(p)}</strong>' in page
