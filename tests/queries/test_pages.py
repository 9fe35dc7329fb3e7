"""The query pages (no JavaScript), the notes on the form page, and the registry entries: the
casebook's "queried" state and the study-lock gate's open-query blockers."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from ecrf.queries import services
from ecrf.queries.models import CheckRun, Query, QueryState
from ecrf.queries.providers import open_query_blockers, queried_entries, query_tasks
from ecrf.review.gate import blockers
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def dm(users):
    return users["data_manager"]


def client_for(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def form(participant_a, vitals):
    return vitals(participant_a, heart_rate=170)


@pytest.fixture
def draft(dm, form):
    return services.query_raise(actor=dm, spec=VITALS, form=form, field="heart_rate", text="Heart rate 170?")


def test_inbox_filters_counts_and_bulk_release(dm, draft, coordinator):
    page = client_for(dm).get("/queries/?state=open&draft=yes")
    html = page.content.decode()
    assert page.status_code == 200 and "Heart rate 170?" in html and "Vital signs (test form)" in html
    assert "heart rate (/min)" in html  # labels, not codes
    assert client_for(dm).get("/queries/?state=closed").content.decode().count("Heart rate 170?") == 0
    # Closing without a reason: the page says why and nothing changes.
    response = client_for(dm).post("/queries/", {"action": "close", "text": "", "selected": [draft.pk]})
    assert response.status_code == 400 and "Write why the query is resolved" in response.content.decode()
    assert Query.objects.get(pk=draft.pk).state == QueryState.OPEN
    response = client_for(dm).post("/queries/", {"action": "release", "selected": [draft.pk], "back": "state=open"})
    assert response.status_code == 302 and response["Location"].endswith("?state=open")
    assert not Query.objects.get(pk=draft.pk).is_draft
    assert client_for(coordinator).get("/queries/").status_code == 403


def test_the_site_answers_on_the_query_page_and_the_data_manager_closes(dm, draft, coordinator):
    site = client_for(coordinator)
    assert site.get(f"/queries/{draft.pk}/").status_code == 404  # a draft
    services.query_release(actor=dm, query=draft)
    listing = site.get("/queries/site/").content.decode()
    assert "Heart rate 170?" in listing
    page = site.get(f"/queries/{draft.pk}/").content.decode()
    assert 'value="answer"' in page and 'value="close"' not in page
    empty = site.post(f"/queries/{draft.pk}/", {"action": "answer", "text": ""})
    assert empty.status_code == 400 and "Write your answer." in empty.content.decode()
    assert site.post(f"/queries/{draft.pk}/", {"action": "answer", "text": "Confirmed: 170."}).status_code == 302
    page = client_for(dm).get(f"/queries/{draft.pk}/").content.decode()
    assert "Confirmed: 170." in page and 'value="close"' in page
    client_for(dm).post(f"/queries/{draft.pk}/", {"action": "close", "text": "Thank you."})
    assert Query.objects.get(pk=draft.pk).state == QueryState.CLOSED
    # The forbidden action is refused even when posted by hand.
    assert site.post(f"/queries/{draft.pk}/", {"action": "reopen", "text": "x"}).status_code == 403
    assert Query.objects.get(pk=draft.pk).state == QueryState.CLOSED


def test_the_form_page_shows_open_queries_beside_their_field(dm, draft, coordinator, form):
    url = f"/forms/{VITALS.slug}/{form.pk}/"
    assert "Heart rate 170?" not in client_for(coordinator).get(url).content.decode()  # a draft
    dm_page = client_for(dm).get(url).content.decode()
    assert "Draft query" in dm_page and f"/queries/raise/{VITALS.slug}/{form.pk}/" in dm_page
    services.query_release(actor=dm, query=draft)
    read_only = client_for(coordinator).get(url).content.decode()  # a submitted form opens read-only
    assert f"Open query #{draft.pk}: Heart rate 170?" in read_only
    html = client_for(coordinator).get(url, {"edit": "1"}).content.decode()
    # The note follows the heart-rate input, before the next field's label.
    after_field = html[html.index('name="f-heart_rate"'):]
    assert after_field.index(f"Open query #{draft.pk}: Heart rate 170?") < after_field.index('for="id_f-notes"')
    assert "Raise a query" not in html


def test_raising_from_the_form_page(dm, form):
    client = client_for(dm)
    assert client.get(f"/queries/raise/{VITALS.slug}/{form.pk}/?field=temperature").status_code == 200
    refused = client.post(f"/queries/raise/{VITALS.slug}/{form.pk}/", {"field": "temperature", "text": ""})
    assert refused.status_code == 400 and Query.objects.count() == 0
    done = client.post(f"/queries/raise/{VITALS.slug}/{form.pk}/", {"field": "temperature", "text": "37.0 exactly?"})
    q = Query.objects.get()
    assert done["Location"] == f"/queries/{q.pk}/" and q.field == "temperature" and q.is_draft


def test_aging_catalogue_and_runs(dm, draft, test_checks, django_capture_on_commit_callbacks):
    client = client_for(dm)
    aging = client.get("/queries/aging/").content.decode()
    assert "<svg" in aging and re.search(r"<th scope=\"row\">A</th><td><a [^>]*>1</a></td>", aging)
    catalogue = client.get("/queries/checks/").content.decode()
    assert "TEST-001" in catalogue and "Tachycardia above 150/min" in catalogue and "heart rate (/min)" in catalogue
    with django_capture_on_commit_callbacks(execute=False):
        queued = client.post("/queries/runs/")
    run = CheckRun.objects.get()
    assert queued["Location"] == f"/queries/runs/{run.pk}/"
    # While queued the status part polls itself (htmx); once finished it stops.
    polling = 'hx-trigger="every 2s"'
    running = client.get(queued["Location"]).content.decode()
    assert "this page follows it" in running and polling in running
    services.checks_run(trigger=run.trigger, run=run)
    page = client.get(f"/queries/runs/{run.pk}/").content.decode()
    assert "this page follows it" not in page and polling not in page and "TEST-001" in page
    assert client.get("/queries/runs/").status_code == 200


def test_the_casebook_shows_queried_only_for_released_unresolved_queries(dm, draft, form, participant_a):
    ct = ContentType.objects.get_for_model(type(form)).pk
    assert queried_entries([participant_a], [form]) == {}
    services.query_release(actor=dm, query=draft)
    assert queried_entries([participant_a], [form]) == {(ct, form.pk): {"queried"}}
    services.query_cancel(actor=dm, query=draft, text="Wrong form.")
    assert queried_entries([participant_a], [form]) == {}


def test_every_unresolved_query_blocks_the_lock_drafts_included(dm, draft, participant_a, site_b):
    found = open_query_blockers(None)
    assert [(b.condition, b.participant_id) for b in found] == [("open_queries", participant_a.pk)]
    assert "1 unresolved query" in found[0].message
    assert open_query_blockers(site_b.pk) == []
    assert any(b.condition == "open_queries" for b in blockers(site_id=participant_a.site_id))
    services.query_cancel(actor=dm, query=draft, text="Raised in error.")
    assert open_query_blockers(None) == []


def test_home_tasks_point_each_role_at_its_queries(users, dm, draft, coordinator):
    assert [(t.title, t.count) for t in query_tasks(dm)] == [("Release draft queries", 1)]
    assert query_tasks(coordinator) == []  # the draft is not the site's yet
    services.query_release(actor=dm, query=draft)
    assert [(t.title, t.count, t.url) for t in query_tasks(coordinator)] == [("Answer queries", 1, "/queries/site/")]
    services.query_answer(actor=coordinator, query=draft, text="Done.")
    assert [(t.title, t.count) for t in query_tasks(users["monitor"])] == [("Review answered queries", 1)]
    assert query_tasks(users["sponsor"]) == []
