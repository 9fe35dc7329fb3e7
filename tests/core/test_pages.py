from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_times_are_shown_in_the_viewers_site_zone(make_randomized, site_a, make_user):
    # 2026-11-20 22:30 UTC is 00:30 on the 21st in Athens (EET, UTC+2).
    participant = make_randomized(dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC))
    html = logged_in(make_user(Role.COORDINATOR)).get(f"/participants/{participant.pk}/").content.decode()
    assert "2026-11-21 00:30 EET" in html


def test_roles_without_a_site_see_the_study_zone(make_randomized, make_user, site_b, users, study):
    participant = make_randomized(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC), site=site_b,
                                  actor=make_user(Role.COORDINATOR, sites=[site_b]))
    html = logged_in(users[Role.DATA_MANAGER]).get(f"/participants/{participant.pk}/").content.decode()
    assert "2026-07-01 15:00 EEST" in html  # the study zone, Europe/Athens, in summer


def test_home_page_tells_each_role_what_to_do(users, participant_a):
    html = logged_in(users[Role.COORDINATOR]).get("/").content.decode()
    assert "Participants" in html and "1 screened" in html
    admin_html = logged_in(users[Role.ADMIN]).get("/").content.decode()
    assert "Users, sites and roles" in admin_html and "screened" not in admin_html


def test_a_user_without_a_role_is_told_so_in_a_sentence(study):
    # An account added in the admin before any role is granted (the admin's add-user form saves
    # through create_user; the project's user_create always grants a role).
    html = logged_in(User.objects.create_user(username="no-role-yet", password=PASSWORD)).get("/").content.decode()
    assert "Your account has no role in this study yet" in html
    assert "Your roles" not in html


def test_participant_api_list_costs_fixed_queries(api, users, make_participant, django_assert_max_num_queries):
    for _ in range(12):
        make_participant()
    client = api(users[Role.DATA_MANAGER])
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/participants/?page_size=100")
    assert response.json()["count"] == 12


def test_participant_list_filters(api, users, make_participant, site_b):
    make_participant()
    make_participant(site_b)
    client = api(users[Role.DATA_MANAGER])
    assert client.get("/api/v1/participants/?site=B").json()["count"] == 1
    assert client.get("/api/v1/participants/?randomized=true").json()["count"] == 0


def test_api_schema_and_docs_render(api, users):
    client = api(users[Role.COORDINATOR])
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_a_refused_admin_page_is_logged_as_one_line_without_a_traceback(users, caplog):
    # The data manager works in the admin's clinical views but does not manage user accounts.
    with caplog.at_level("WARNING", logger="django.request"):
        response = logged_in(users[Role.DATA_MANAGER]).get("/admin/accounts/user/")
    assert response.status_code == 403
    refused = [r for r in caplog.records if r.name == "django.request" and getattr(r, "status_code", None) == 403]
    assert refused and all(r.exc_info is None for r in refused)
    assert "Traceback" not in caplog.text


def test_every_page_names_its_icon_and_the_icon_is_served(users):
    html = logged_in(users[Role.COORDINATOR]).get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("favicon.svg")


@pytest.mark.django_db
def test_a_forms_admin_list_links_each_row_to_its_participants_page(users, participant_a):
    from ecrf.crf.services import form_create
    from tests.testapp.specs import VITALS

    form_create(actor=users[Role.COORDINATOR], spec=VITALS, participant=participant_a,
                data={"measured_on": dt.date(2026, 11, 1), "temperature": 37, "heart_rate": 80})
    opts = VITALS.model._meta
    html = logged_in(users[Role.DATA_MANAGER]).get(f"/admin/{opts.app_label}/{opts.model_name}/").content.decode()
    assert f'<a href="/participants/{participant_a.pk}/">{participant_a.label}</a>' in html
