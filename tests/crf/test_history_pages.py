"""The history pages as people read them: field labels and values (not column names and codes),
who by name, the site's zone named, newest first, filters by form, field, person and date, and
pages of ``HISTORY_PAGE_SIZE`` changes. The API keeps the raw entries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from ecrf.crf import views
from ecrf.crf.services import form_create, form_update
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db

DAY_1 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DAY_3 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def corrected(make_user, coordinator, participant_a):
    """A vital-signs form entered on day 1 by the coordinator and corrected on day 3 by a second,
    named coordinator (heart rate 171 -> 117, with a reason)."""
    with time_machine.travel(DAY_1, tick=False):
        form = form_create(actor=coordinator, spec=VITALS, participant=participant_a, submit=True,
                           data={"measured_on": dt.date(2026, 11, 20), "temperature": "38.5", "heart_rate": 171})
    other = make_user("coordinator", first_name="Eleni", last_name="Papadopoulou")
    with time_machine.travel(DAY_3, tick=False):
        form_update(actor=other, spec=VITALS, form=form, version=form.version, reason="Transcription error",
                    data={"heart_rate": 117})
    return form, other


def _rows(response) -> list[list[str]]:  # noqa: ANN001
    body = response.content.decode()
    table = body[body.index('data-testid="history"'):]
    table = table[:table.index("</table>")]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)]


def test_a_form_history_reads_as_labels_values_names_and_the_zone(corrected, coordinator):
    form, other = corrected
    client = Client()
    client.force_login(coordinator)
    response = client.get(f"/forms/{VITALS.slug}/{form.pk}/history/")
    assert response.status_code == 200
    rows = _rows(response)
    # Newest first: the correction, by name and user name, in the site's zone (Athens: UTC+2).
    assert rows[0] == ["2026-11-22 11:00 EET", f"Eleni Papadopoulou ({other.username})", "Heart rate (/min)", "171",
                       "117", "Transcription error"]
    created = {r[2]: r for r in rows[1:]}
    assert created["Temperature (°C)"][3:5] == ["—", "38.5"]
    assert created["Measured on"][4] == "2026-11-20"
    assert created["Fever"][4] == "Yes"  # derived on the server: shown as a word, not True
    assert created["Entry status"][4] == "Submitted"  # a coded value: its label, not the code
    assert "heart_rate" not in response.content.decode() and "True" not in "".join(sum(rows, []))
    assert "times in Europe/Athens" in response.content.decode()


def test_the_filters_and_the_pages(corrected, coordinator, participant_a, monkeypatch):
    form, other = corrected
    client = Client()
    client.force_login(coordinator)
    url = f"/participants/{participant_a.pk}/history/"
    everything = _rows(client.get(url))
    by_field = _rows(client.get(url, {"field": "Heart rate (/min)"}))
    assert [r[3] for r in by_field] == ["Heart rate (/min)", "Heart rate (/min)"]
    by_person = _rows(client.get(url, {"user": other.username}))
    assert [r[3] for r in by_person] == ["Heart rate (/min)"]
    by_form = _rows(client.get(url, {"form": VITALS.label}))
    assert len(by_form) == len([r for r in everything if r[2].startswith(VITALS.label)]) < len(everything)
    since_day_2 = _rows(client.get(url, {"since": "2026-11-21"}))
    until_day_2 = _rows(client.get(url, {"until": "2026-11-21"}))
    assert {r[0][:10] for r in until_day_2} == {"2026-11-20"}
    assert "2026-11-20" not in {r[0][:10] for r in since_day_2} and ["171", "117"] in [r[4:6] for r in since_day_2]
    assert len(since_day_2) + len(until_day_2) == len(everything)
    # An ambiguous date is refused with the pattern, and the page still lists everything.
    refused = client.get(url, {"since": "21/11/2026"})
    assert "Enter the date as YYYY-MM-DD" in refused.content.decode() and len(_rows(refused)) == len(everything)
    # Pages keep the filter.
    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 2)
    first = client.get(url, {"user": coordinator.username})
    assert len(_rows(first)) == 2 and f"user={coordinator.username}&amp;page=2" in first.content.decode()
    later = _rows(client.get(url, {"user": coordinator.username, "page": 2}))
    assert later and later != _rows(first)


def test_the_api_history_keeps_the_raw_entries(corrected, coordinator, api):
    form, _ = corrected
    entries = api(coordinator).get(f"/api/v1/{VITALS.slug}/{form.pk}/history/").json()
    change = next(e for e in entries if e["change"] == "changed")
    assert (change["field"], change["old"], change["new"]) == ("heart_rate", "171", "117")
    assert "label" not in change
