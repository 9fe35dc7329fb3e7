"""Separation of duties for unblinded roles, audited role changes, and who sees SUSAR events."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from ecrf.accounts.models import GrantStatus, RoleGrant, User
from ecrf.accounts.roles import UNBLINDED_ROLES, Role, user_roles
from ecrf.accounts.services import role_grant_approve, role_grant_refuse, role_grant_request, role_revoke, user_create
from ecrf.audit.admin import events_visible_to
from ecrf.audit.integrity import verify_chain
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError
from tests.conftest import PASSWORD
from tests.randomization.conftest import _no_broker, allocation  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(make_user, study):
    return make_user(Role.ADMIN), make_user(Role.ADMIN)


@pytest.fixture
def grantee(make_user):
    return make_user(Role.MONITOR)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _roles(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _user_form(user, groups: list[Group]) -> dict:
    return {"username": user.username, "first_name": "", "last_name": "", "email": user.email,
            "is_active": "on", "is_staff": "on" if user.is_staff else "", "groups": [g.pk for g in groups],
            "sites": list(user.sites.values_list("pk", flat=True))}


@pytest.mark.parametrize("role", sorted(UNBLINDED_ROLES))
def test_admin_cannot_give_themself_an_unblinded_role_in_the_user_form(admins, role):
    admin, _ = admins
    group = Group.objects.get(name=role)
    response = _client(admin).post(f"/admin/accounts/user/{admin.pk}/change/",
                                   _user_form(admin, [Group.objects.get(name=Role.ADMIN), group]))
    assert response.status_code == 200 and "groups" in response.context["adminform"].form.errors
    assert _roles(admin) == {Role.ADMIN}
    assert group not in response.context["adminform"].form.fields["groups"].queryset


def test_user_form_keeps_existing_unblinded_roles_and_audits_blinded_changes(admins, make_user):
    admin, _ = admins
    statistician = make_user(Role.STATISTICIAN)
    response = _client(admin).post(f"/admin/accounts/user/{statistician.pk}/change/",
                                   _user_form(statistician, [Group.objects.get(name=Role.SPONSOR)]),
                                   REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302, response.content
    assert _roles(statistician) == {Role.STATISTICIAN, Role.SPONSOR}
    event = Event.objects.filter(kind=EventKind.ROLE_CHANGE, object_id=str(statistician.pk)).last()
    assert event.actor == admin and event.ip_address == "10.1.2.3"
    assert sorted(event.detail["now"]) == [Role.SPONSOR, Role.STATISTICIAN]
    latest = statistician.history.order_by("-history_id").first()
    assert latest.roles_held == "sponsor,statistician" and latest.history_user == admin


@pytest.mark.parametrize("role", sorted(UNBLINDED_ROLES))
def test_no_path_adds_an_unblinded_group_without_a_grant(grantee, role):
    group = Group.objects.get(name=role)
    with pytest.raises(DomainError, match="approved by another"), transaction.atomic():
        grantee.groups.add(group)
    with pytest.raises(DomainError, match="approved by another"), transaction.atomic():
        group.user_set.add(grantee)
    assert _roles(grantee) == {Role.MONITOR}


def test_two_person_grant_through_the_admin(admins, grantee):
    first, second = admins
    response = _client(first).post("/admin/accounts/rolegrant/add/",
                                   {"user": grantee.pk, "role": Role.STATISTICIAN, "reason": "Trial statistician"},
                                   REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=grantee)
    assert (grant.status, grant.requested_by, grant.requested_ip) == (GrantStatus.PENDING, first, "10.0.0.1")
    assert _roles(grantee) == {Role.MONITOR}
    changelist = "/admin/accounts/rolegrant/"
    _client(first).post(changelist, {"action": "approve", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.status == GrantStatus.PENDING and _roles(grantee) == {Role.MONITOR}
    _client(second).post(changelist, {"action": "approve", "_selected_action": [grant.pk]}, REMOTE_ADDR="10.0.0.2")
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by, grant.decided_ip) == (GrantStatus.GRANTED, second, "10.0.0.2")
    assert Role.STATISTICIAN in _roles(grantee)
    event = Event.objects.filter(kind=EventKind.ROLE_CHANGE, object_id=str(grantee.pk), detail__action="post_add").last()
    assert (event.actor, event.ip_address) == (second, "10.0.0.2") and "Trial statistician" in event.reason
    assert grantee.history.order_by("-history_id").first().roles_held == "monitor,statistician"
    assert verify_chain().ok


def test_grant_rules(admins, grantee):
    first, second = admins
    with pytest.raises(DomainError, match="for yourself"):
        role_grant_request(actor=first, user=first, role=Role.STATISTICIAN, reason="me")
    with pytest.raises(DomainError, match="reason"):
        role_grant_request(actor=first, user=grantee, role=Role.DSMB, reason=" ")
    with pytest.raises(DomainError, match="not an unblinded role"):
        role_grant_request(actor=first, user=grantee, role=Role.MONITOR, reason="x")
    with pytest.raises(DomainError, match="role may not"):
        role_grant_request(actor=grantee, user=second, role=Role.DSMB, reason="x")
    # An administrator who is the grantee may not approve their own grant, even when asked by another.
    for_first = role_grant_request(actor=second, user=first, role=Role.DSMB, reason="DSMB secretary")
    with pytest.raises(DomainError, match="for yourself"):
        role_grant_approve(actor=first, grant=for_first)
    with pytest.raises(DomainError, match="second administrator"):
        role_grant_approve(actor=second, grant=for_first)
    role_grant_refuse(actor=second, grant=for_first, reason="Not needed")
    assert RoleGrant.objects.get(pk=for_first.pk).status == GrantStatus.REFUSED
    assert Role.DSMB not in _roles(first)


def test_revoke_removes_the_role_with_reason(admins, grantee):
    first, second = admins
    grant = role_grant_approve(actor=second, grant=role_grant_request(actor=first, user=grantee, role=Role.PHARMACIST,
                                                                     reason="Site A pharmacist"))
    role_revoke(actor=first, grant=grant, reason="Left the site")
    assert Role.PHARMACIST not in _roles(grantee)
    event = Event.objects.filter(kind=EventKind.ROLE_CHANGE, object_id=str(grantee.pk), detail__action="post_remove").last()
    assert event.actor == first and "Left the site" in event.reason
    with pytest.raises(DomainError, match="approved by another"), transaction.atomic():
        grantee.groups.add(Group.objects.get(name=Role.PHARMACIST))  # a revoked grant is no grant


def test_user_create_by_a_person_never_grants_unblinded_roles(admins, site_a):
    admin, _ = admins
    with pytest.raises(DomainError, match="second administrator"):
        user_create(actor=admin, username="stat2", roles=[Role.STATISTICIAN])
    assert not User.objects.filter(username="stat2").exists()


def test_create_user_command_files_a_pending_grant(admins, study):
    with pytest.raises(CommandError, match="reason"):
        call_command("create_user", "stat3", "--role", "statistician", stdout=StringIO())
    out = StringIO()
    call_command("create_user", "stat3", "--role", "statistician", "--role", "sponsor",
                 "--reason", "Trial statistician per delegation log", stdout=out)
    user = User.objects.get(username="stat3")
    assert _roles(user) == {Role.SPONSOR} and "Pending approval" in out.getvalue()
    grant = RoleGrant.objects.get(user=user)
    assert grant.status == GrantStatus.PENDING and grant.requested_by is None
    role_grant_approve(actor=admins[0], grant=grant)
    assert Role.STATISTICIAN in user_roles(User.objects.get(pk=user.pk))


def test_susar_unblinding_event_is_hidden_from_data_managers_and_admins(users, site_a, allocation):  # noqa: F811
    from ecrf.randomization.services import participant_randomize
    from ecrf.randomization.unblinding import reveal_for_susar
    from tests.screening.factories import eligible_participant

    participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], site_a, "A-SU1")
    participant_randomize(actor=users[Role.COORDINATOR], participant=participant)
    pv = users[Role.PHARMACOVIGILANCE]
    reveal_for_susar(actor=pv, participant=participant, reason="Potential SUSAR", password=PASSWORD)
    event = Event.objects.get(kind=EventKind.UNBLINDING, detail__scope="susar")
    for role in (Role.ADMIN, Role.DATA_MANAGER):
        client = _client(users[role])
        listing = client.get("/admin/audit/event/")
        assert listing.status_code == 200
        assert event.pk not in [e.pk for e in listing.context["cl"].result_list]
        assert listing.context["cl"].full_result_count == Event.objects.count() - 1
        assert client.get(f"/admin/audit/event/{event.pk}/change/").status_code in (302, 404)
        assert event.pk not in events_visible_to(users[role], Event.objects.all()).values_list("pk", flat=True)
    assert event.pk in events_visible_to(pv, Event.objects.all()).values_list("pk", flat=True)
