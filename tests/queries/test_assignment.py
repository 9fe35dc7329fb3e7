"""Assigning a query to a person or a site role, and telling the site when a query waits for it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ecrf.notifications.models import Notification
from ecrf.queries import services
from ecrf.queries.errors import QueryError
from ecrf.queries.models import Query
from tests.queries.test_workflow import _refused
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(users, participant_a, vitals):
    form = vitals(participant_a, heart_rate=170)
    return services.query_raise(actor=users["data_manager"], spec=VITALS, form=form, field="heart_rate",
                                text="Please check the rate.")


def _told(query: Query) -> set[str]:
    return set(Notification.objects.filter(source=f"queries.query:{query.pk}").values_list("recipient__username", flat=True))


def test_release_tells_the_sites_answerers_and_an_assignment_tells_the_assignee(users, make_user, site_b, draft):
    dm = users["data_manager"]
    second = make_user("coordinator")  # also at site A
    make_user("coordinator", sites=[site_b])  # another site: never told
    # Assigned while a draft: nobody at the site hears of it yet.
    services.query_assign(actor=dm, query=draft, assignee=second)
    assert _told(draft) == set()
    services.query_release(actor=dm, query=draft)
    assert _told(draft) == {second.username}
    # Back to the site at large: its investigators and coordinators, and only them.
    services.query_assign(actor=dm, query=draft)
    assert _told(draft) == {second.username, users["coordinator"].username, users["investigator"].username}
    history = Query.history.filter(id=draft.pk).order_by("history_id")
    assert [h.history_change_reason for h in history][1] == f"Assigned to {second.username}"
    assert history.last().assignee_id is None and history.last().assignee_role == ""


def test_an_assignment_to_a_role_tells_that_roles_holders_at_the_site(users, draft):
    dm = users["data_manager"]
    services.query_release(actor=dm, query=Query(pk=draft.pk))
    Notification.objects.all().delete()  # the outbox is plumbing, not the record
    assigned = services.query_assign(actor=dm, query=draft, role="investigator")
    assert assigned.assignee_role == "investigator" and assigned.assignee is None
    assert _told(draft) == {users["investigator"].username}


def test_bad_assignments_are_refused_and_change_nothing(users, make_user, site_b, draft):
    dm = users["data_manager"]
    elsewhere = make_user("coordinator", sites=[site_b])
    err = _refused(QueryError.BAD_ASSIGNEE, lambda: services.query_assign(actor=dm, query=draft, assignee=elsewhere))
    assert err.status == 400 and "site A" in err.message
    _refused(QueryError.BAD_ASSIGNEE, lambda: services.query_assign(actor=dm, query=draft, assignee=users["monitor"]))
    _refused(QueryError.BAD_ASSIGNEE, lambda: services.query_assign(actor=dm, query=draft, role="monitor"))
    _refused(QueryError.BAD_ASSIGNEE, lambda: services.query_assign(actor=dm, query=draft, assignee=users["coordinator"],
                                                                   role="coordinator"))
    services.query_release(actor=dm, query=draft)
    _refused("forbidden", lambda: services.query_assign(actor=users["coordinator"], query=draft, role="coordinator"))


def test_the_api_and_the_query_page_assign(users, draft, api):
    dm = users["data_manager"]
    client = api(dm)
    url = reverse("query-assign", kwargs={"pk": draft.pk})
    response = client.post(url, {"assignee": users["coordinator"].username}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == users["coordinator"].username
    response = client.post(url, {"assignee": "nobody-here"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["fields"]["assignee"]
    page = Client()
    page.force_login(dm)
    detail = reverse("queries:detail", kwargs={"pk": draft.pk})
    assert "Who answers this query" in page.get(detail).content.decode()
    response = page.post(detail, {"action": "assign", "assignee": "role:investigator"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.assignee is None and draft.assignee_role == "investigator"
