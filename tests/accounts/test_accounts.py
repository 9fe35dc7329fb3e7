from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role
from ecrf.accounts.services import reauthenticate
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_create_user_command_prints_a_working_token(site_a):
    out = StringIO()
    call_command("create_user", "cora", "--role", "coordinator", "--site", "A", "--token", stdout=out)
    token = out.getvalue().split("Token: ")[1].strip()
    user = User.objects.get(username="cora")
    assert Token.objects.get(user=user).key == token
    assert set(user.groups.values_list("name", flat=True)) == {"coordinator"}
    assert list(user.sites.values_list("code", flat=True)) == ["A"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/participants/").status_code == 200


def test_every_role_code_exists():
    assert set(Role.values) == {"investigator", "coordinator", "pharmacist", "lab", "monitor", "data_manager",
                                "safety_officer", "pharmacovigilance", "sponsor", "statistician", "dsmb", "admin"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "--role", "wizard"], "Unknown role wizard"),
        (["bob", "--role", "coordinator", "--site", "ZZ"], "Unknown site ZZ"),
        (["bob", "--role", "coordinator"], "needs at least one --site"),
        (["bob", "--role", "monitor", "--password", "123"], "password"),
    ],
)
def test_create_user_bad_input_creates_nothing(site_a, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_user", *args, stdout=StringIO())
    assert not User.objects.filter(username="bob").exists()


def test_duplicate_user_is_refused(site_a):
    call_command("create_user", "dup", "--role", "lab", stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "dup", "--role", "lab", stdout=StringIO())


# Lockout (by user name and address, through django-axes) is tested in test_lockout.py.


def test_idle_session_timeout_is_configured(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_RENEWAL_SECONDS == 60


def test_a_request_renews_the_session_at_most_once_a_minute_and_never_past_the_idle_timeout(coordinator):
    import time_machine
    from django.contrib.sessions.models import Session

    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.login(username=coordinator.username, password=PASSWORD)
        assert client.get("/").status_code == 200
        key = client.session.session_key
        expiry = Session.objects.get(session_key=key).expire_date
        assert expiry == start + dt.timedelta(minutes=30)
        # Within the renewal interval a read writes nothing.
        clock.move_to(start + dt.timedelta(seconds=50))
        assert client.get("/").status_code == 200
        assert Session.objects.get(session_key=key).expire_date == expiry
        # Idle from 08:00:50: the session ends at 08:30, 29 min 10 s after that last request.
        clock.move_to(start + dt.timedelta(minutes=29, seconds=59))
        assert client.get("/").status_code == 200  # renewed: more than a minute since 08:00
        renewed = Session.objects.get(session_key=key).expire_date
        assert renewed == start + dt.timedelta(minutes=59, seconds=59)
        clock.move_to(renewed + dt.timedelta(seconds=1))
        response = client.get("/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_idle_session_expires(coordinator, settings):
    from django.contrib.sessions.models import Session

    client = Client()
    client.login(username=coordinator.username, password=PASSWORD)
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_reauthentication(coordinator):
    reauthenticate(user=coordinator, password=PASSWORD, purpose="signature")
    with pytest.raises(DomainError) as err:
        reauthenticate(user=coordinator, password="nope", purpose="signature")
    assert err.value.status == 403 and "password" in err.value.fields
    assert Event.objects.filter(kind=EventKind.REAUTH_FAILED, actor=coordinator).exists()


def test_role_change_is_audited(coordinator):
    from django.contrib.auth.models import Group

    coordinator.groups.add(Group.objects.get(name="investigator"))
    event = Event.objects.filter(kind=EventKind.ROLE_CHANGE, object_id=str(coordinator.pk)).last()
    assert event is not None and sorted(event.detail["now"]) == ["coordinator", "investigator"]


def test_user_account_changes_are_in_history(coordinator):
    coordinator.email = "new@example.org"
    coordinator._change_reason = "E-mail update"
    coordinator.save()
    record = coordinator.history.first()
    assert record.email == "new@example.org" and record.history_change_reason == "E-mail update"
    assert not hasattr(record, "password")


def test_a_session_request_reads_the_users_roles_sites_and_zone_with_the_user(make_user, site_a, site_b, study):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ecrf.accounts.roles import user_roles
    from ecrf.accounts.selectors import display_time_zone, member_site_ids

    user = make_user(["monitor", "investigator"], sites=[site_b, site_a])
    client = Client()
    client.force_login(user)
    seen = {}

    def look(request):  # noqa: ANN001, ANN202
        u = request.user
        with CaptureQueriesContext(connection) as queries:
            seen.update(roles=user_roles(u), sites=member_site_ids(u), zone=display_time_zone(u))
        seen["queries"] = len(queries)
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.test import RequestFactory
    from django.contrib.auth import get_user
    from django.contrib.sessions.backends.db import SessionStore

    def request_as_client():  # the client's session, read the way the middleware reads it
        request = RequestFactory().get("/")
        request.session = SessionStore(session_key=client.cookies["sessionid"].value)
        request.user = get_user(request)
        return look(request)

    request_as_client()
    # Both roles and both sites; the zone of site A (the first by code); no query beyond the user's.
    assert seen == {"roles": frozenset({"monitor", "investigator"}), "sites": frozenset({site_a.pk, site_b.pk}),
                    "zone": "Europe/Athens", "queries": 0}
    # A role or site taken away applies to the next request.
    user.groups.remove(Group.objects.get(name="investigator"))
    user.sites.remove(site_a)
    request_as_client()
    assert seen["roles"] == frozenset({"monitor"}) and seen["sites"] == frozenset({site_b.pk})
    assert seen["zone"] == "Europe/Amsterdam"


def test_a_central_roles_session_request_reads_the_studys_zone_with_the_user(make_user, site_a, study):
    """A user without a site role sees times in the study's zone, read in the session user's own
    query (no query of its own), and fresh on each request: a change of the study's zone applies
    to the next request."""
    from django.contrib.auth import get_user
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from ecrf.accounts.selectors import display_time_zone

    user = make_user("data_manager", sites=[site_a])  # a member site does not make a central role's zone
    client = Client()
    client.force_login(user)

    def zone_and_queries() -> tuple[str, int]:
        request = RequestFactory().get("/")
        request.session = SessionStore(session_key=client.cookies["sessionid"].value)
        request.user = get_user(request)
        with CaptureQueriesContext(connection) as queries:
            zone = display_time_zone(request.user)
        return zone, len(queries)

    assert study.time_zone == "Europe/Athens" and site_a.time_zone != "Europe/Lisbon"
    assert zone_and_queries() == ("Europe/Athens", 0)
    study.time_zone = "Europe/Lisbon"
    study._change_reason = "test"
    study.save()
    assert zone_and_queries() == ("Europe/Lisbon", 0)
