"""Casebook grid page and schedule API: content, scope, blinding, fixed query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION
from tests.support.times import athens

pytestmark = pytest.mark.django_db


def enter_doses(actor, participant, count):
    first = athens(2025, 3, 10, 10, 30)
    for n in range(1, count + 1):
        form_create(actor=actor, spec=ADMINISTRATION, participant=participant, submit=True,
                    data={"route": "iv", "dose_number": n, "given": True, "started_at": first + dt.timedelta(hours=8 * (n - 1)),
                          "duration_minutes": 30, "volume_ml": "20"})


def page(user, participant):
    client = Client()
    client.force_login(user)
    return client.get(f"/participants/{participant.pk}/casebook/")


def test_schedule_api_lists_expected_forms_with_states(api, coordinator, randomized):
    enter_doses(coordinator, randomized, 2)
    body = api(coordinator).get(f"/api/v1/participants/{randomized.pk}/schedule/").json()
    assert body["first_dose_at"].startswith("2025-03-10T08:30")
    forms = {(f["form"], f["match"].get("route"), f["match"].get("dose_number"), f["day"]): f for f in body["forms"]}
    assert forms[("dosing.administration", "iv", 1, 1)]["state"] == "entered"
    assert forms[("dosing.administration", "iv", 1, 1)]["entry_id"] is not None
    assert forms[("outcomes.vital_status", None, None, 28)]["state"] in {"upcoming", "due", "overdue"}
    assert ("outcomes.end_of_study", None, None, None) in forms
    text = str(body).lower()
    assert "anakinra" not in text and "interferon" not in text and "placebo" not in text


@pytest.mark.parametrize("doses", [1, 30])
def test_fixed_query_count_whatever_the_number_of_entries(api, coordinator, randomized, django_assert_max_num_queries, doses):
    enter_doses(coordinator, randomized, doses)
    client = api(coordinator)
    client.get(f"/api/v1/participants/{randomized.pk}/schedule/")  # warm caches (content types, roles)
    with django_assert_max_num_queries(20):
        assert client.get(f"/api/v1/participants/{randomized.pk}/schedule/").status_code == 200
    web = Client()
    web.force_login(coordinator)
    web.get(f"/participants/{randomized.pk}/casebook/")
    with django_assert_max_num_queries(26):
        assert web.get(f"/participants/{randomized.pk}/casebook/").status_code == 200


def test_query_count_does_not_grow(api, coordinator, randomized, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(coordinator)
    url = f"/api/v1/participants/{randomized.pk}/schedule/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    enter_doses(coordinator, randomized, 20)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_grid_page_shows_days_and_states(coordinator, randomized):
    enter_doses(coordinator, randomized, 3)
    response = page(coordinator, randomized)
    html = response.content.decode()
    assert response.status_code == 200
    assert "IV study drug" in html and "SC study drug" in html and "Vital status" in html and "Day 28" in html
    assert 'data-testid="cell-dosing.administration:iv-1"' in html and "state-entered" in html
    for product in ("anakinra", "interferon", "placebo"):
        assert product not in html.lower()


def test_other_site_gets_404_and_unblinded_roles_403(users, randomized, make_user, site_b, api):
    other = make_user(Role.COORDINATOR, sites=[site_b])
    assert page(other, randomized).status_code == 404
    assert api(other).get(f"/api/v1/participants/{randomized.pk}/schedule/").status_code == 404
    assert page(users[Role.PHARMACIST], randomized).status_code == 403
    assert api(users[Role.STATISTICIAN]).get(f"/api/v1/participants/{randomized.pk}/schedule/").status_code == 403
    assert page(users[Role.DATA_MANAGER], randomized).status_code == 200


def test_not_randomized_participant_has_no_schedule(api, coordinator, make_participant):
    p = make_participant()
    assert api(coordinator).get(f"/api/v1/participants/{p.pk}/schedule/").status_code == 409
    assert "not randomized" in page(coordinator, p).content.decode()


def test_a_new_form_with_a_day_field_appears_in_the_grid(coordinator, randomized, monkeypatch):
    """A form registered under a key the visit schedule lists (e.g. 'sofa.sofa_day') appears with
    no change to the schedule code: here the test app's form stands in for it."""
    from ecrf.crf import registry
    from tests.testapp.specs import VITALS

    stand_in = registry.FormSpec(key="sofa.sofa_day", model=VITALS.model, fields=VITALS.fields, slug="sofa-stand-in",
                                 label="SOFA (stand-in)", one_per=("measured_on",),
                                 schedule_day_field="heart_rate")
    monkeypatch.setitem(registry._REGISTRY, "sofa.sofa_day", stand_in)
    from ecrf.schedule.selectors import build_schedule

    forms = [f for f in build_schedule(randomized).forms if f.slot.key == "sofa.sofa_day"]
    assert [f.slot.day for f in forms] == list(range(1, 16))



def _new_links(html):
    """(cell test id, new-form link) for each missing form that links to a new form."""
    import html as html_lib
    import re

    return [(cell, html_lib.unescape(href))
            for cell, href in re.findall(r'data-testid="(cell-[^"]+)"><a href="([^"]*/new/[^"]*)"', html)]


def test_new_form_links_prefill_the_slot(coordinator, randomized):
    import re

    enter_doses(coordinator, randomized, 3)
    links = _new_links(page(coordinator, randomized).content.decode())
    base = f"/participants/{randomized.pk}/forms"
    assert ("cell-outcomes.vital_status-28", f"{base}/vital-status/new/?day=28") in links
    assert ("cell-sofa.sofa_day-3", f"{base}/sofa/new/?day=3") in links
    assert ("cell-dosing.administration:iv-2", f"{base}/administrations/new/?route=iv&dose_number=4") in links
    assert ("cell-dosing.administration:sc-1", f"{base}/administrations/new/?route=sc&dose_number=1") in links
    assert ("cell-outcomes.end_of_study-eos", f"{base}/end-of-study/new/") in links
    # Entered doses link to their record, not to a new form.
    assert not any(href.endswith(f"route=iv&dose_number={n}") for _, href in links for n in (1, 2, 3))
    # Following a link opens the form with the slot's values chosen.
    client = Client()
    client.force_login(coordinator)
    vital = client.get(f"{base}/vital-status/new/?day=28").content.decode()
    assert re.search(r'name="f-day"[^>]*value="28"|<option value="28" selected>', vital), vital
    dose = client.get(f"{base}/administrations/new/?route=iv&dose_number=4").content.decode()
    assert '<option value="iv" selected>' in dose and re.search(r'name="f-dose_number"[^>]*value="4"', dose)


def test_readers_get_no_new_form_links(users, randomized):
    html = page(users[Role.MONITOR], randomized).content.decode()
    assert "state-due" in html or "state-overdue" in html
    assert _new_links(html) == []
