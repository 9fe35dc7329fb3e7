"""Lockout after repeated failed logins (django-axes): by user name and address together, on
every way in (login page, admin, API token, re-authentication), with audit events."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ecrf.accounts.services import reauthenticate
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
# Documentation addresses (RFC 5737): the attacker's and the real user's.
ATTACKER, OWNER = "192.0.2.10", "198.51.100.20"
LOGIN = "/accounts/login/"


def attempt(username: str, password: str, address: str, path: str = LOGIN):  # noqa: ANN201
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def logged_in(response) -> bool:  # noqa: ANN001
    return response.status_code == 302 and "/accounts/login/" not in response["Location"]


def lock(username: str, address: str, study) -> None:  # noqa: ANN001
    for _ in range(study.protocol.max_failed_logins):
        assert not logged_in(attempt(username, "wrong-password", address))


def test_failed_logins_lock_the_user_at_that_address_even_with_the_right_password(coordinator, study):
    lock(coordinator.username, ATTACKER, study)
    response = attempt(coordinator.username, PASSWORD, ATTACKER)
    assert response.status_code == 429 and not logged_in(response)
    assert "Too many failed logins" in response.content.decode()
    # Five wrong passwords and the refused right one: each refused login is audited.
    assert Event.objects.filter(kind=EventKind.LOGIN_FAILED, actor_username=coordinator.username).count() == 6
    lockouts = Event.objects.filter(kind=EventKind.LOCKOUT, actor_username=coordinator.username)
    assert lockouts.exists() and {e.object_id for e in lockouts} == {str(coordinator.pk)}


def test_someone_elsewhere_cannot_lock_the_real_user_out(coordinator, study):
    lock(coordinator.username, ATTACKER, study)
    assert logged_in(attempt(coordinator.username, PASSWORD, OWNER))
    assert Event.objects.filter(kind=EventKind.LOGIN, actor=coordinator).exists()


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_resets(coordinator, study):
    for _ in range(study.protocol.max_failed_logins - 1):
        attempt(coordinator.username, "wrong-password", OWNER)
    assert logged_in(attempt(coordinator.username, PASSWORD, OWNER))
    assert not AccessAttempt.objects.filter(username=coordinator.username, ip_address=OWNER).exists()
    for _ in range(study.protocol.max_failed_logins - 1):
        attempt(coordinator.username, "wrong-password", OWNER)
    assert logged_in(attempt(coordinator.username, PASSWORD, OWNER))


def test_the_limit_comes_from_the_protocol_configuration(coordinator, study):
    study.protocol_overrides = {"max_failed_logins": 2}
    study.save()
    lock(coordinator.username, ATTACKER, study)
    assert attempt(coordinator.username, PASSWORD, ATTACKER).status_code == 429


def test_the_lockout_ends_after_the_cool_off(coordinator, study):
    import datetime as dt

    lock(coordinator.username, OWNER, study)
    assert attempt(coordinator.username, PASSWORD, OWNER).status_code == 429
    # The attempts age past the configured lockout (AccessAttempt is axes' own table).
    earlier = AccessAttempt.objects.get(username=coordinator.username).attempt_time - dt.timedelta(
        minutes=study.protocol.lockout_minutes + 1)
    AccessAttempt.objects.filter(username=coordinator.username).update(attempt_time=earlier)
    assert logged_in(attempt(coordinator.username, PASSWORD, OWNER))


def test_an_unknown_user_name_is_answered_like_a_known_one(coordinator, study):
    lock("nobody-by-this-name", ATTACKER, study)
    assert attempt("nobody-by-this-name", PASSWORD, ATTACKER).status_code == 429
    lock(coordinator.username, ATTACKER, study)
    assert attempt(coordinator.username, PASSWORD, ATTACKER).status_code == 429


def test_the_admin_login_is_locked_too(users, study):
    from ecrf.accounts.roles import Role

    admin = users[Role.ADMIN]
    for _ in range(study.protocol.max_failed_logins):
        attempt(admin.username, "wrong-password", ATTACKER, path="/admin/login/")
    response = attempt(admin.username, PASSWORD, ATTACKER, path="/admin/login/")
    assert response.status_code == 429


def test_a_locked_out_users_token_is_refused_from_that_address(coordinator, study):
    token = Token.objects.create(user=coordinator).key
    here = APIClient(HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=OWNER)
    assert here.get("/api/v1/administrations/").status_code == 200
    lock(coordinator.username, OWNER, study)
    response = here.get("/api/v1/administrations/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "locked" in response.json()["error"]["message"]
    # The lockout is of the user at that address: the same token elsewhere still works.
    elsewhere = APIClient(HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=ATTACKER)
    assert elsewhere.get("/api/v1/administrations/").status_code == 200


def test_an_inactive_users_token_is_refused(coordinator):
    token = Token.objects.create(user=coordinator).key
    coordinator.is_active = False
    coordinator.save()
    response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/administrations/")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def _request(address: str):  # noqa: ANN202
    from django.test import RequestFactory

    return RequestFactory(REMOTE_ADDR=address).post("/api/v1/participants/1/unblind/")


def test_wrong_passwords_at_reauthentication_count_and_lock(users, study):
    from ecrf.accounts.roles import Role

    investigator = users[Role.INVESTIGATOR]
    for _ in range(study.protocol.max_failed_logins):
        with pytest.raises(DomainError):
            reauthenticate(user=investigator, password="wrong-password", request=_request(OWNER), purpose="test")
    # Locked at that address: even the right password does not re-authenticate there.
    with pytest.raises(DomainError):
        reauthenticate(user=investigator, password=PASSWORD, request=_request(OWNER), purpose="test")
    reauthenticate(user=investigator, password=PASSWORD, request=_request(ATTACKER), purpose="test")
    assert Event.objects.filter(kind=EventKind.REAUTH_FAILED, actor=investigator).count() == 6
    assert Event.objects.filter(kind=EventKind.LOCKOUT, actor_username=investigator.username).exists()


def test_the_client_address_behind_a_trusted_proxy(settings):
    from ecrf.accounts.backends import client_ip

    request = _request("10.0.0.1")
    request.META["HTTP_X_FORWARDED_FOR"] = f"203.0.113.5, {OWNER}"
    settings.ECRF_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"  # no proxy trusted: the header is the client's word
    settings.ECRF_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == OWNER  # what the one trusted proxy saw; the forged first entry is ignored
