"""The SOFA form's score preview: what a save would compute, rendered as the coordinator types,
computed by the save's own scoring and writing nothing; and the error summary of the form pages."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.test import Client
from django.urls import reverse

from ecrf.audit.models import Event
from ecrf.crf.registry import get_spec, register
from ecrf.crf.services import form_create
from ecrf.sofa.models import SofaDay
from ecrf.sofa.scoring import COMPONENTS
from ecrf.sofa.specs import SOFA_DAY
from tests.sofa.conftest import FULL_DAY
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_a(make_user, study):
    return make_user("coordinator")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_body(values: dict) -> dict:
    return {f"f-{name}": "" if value is None else str(value).lower() if isinstance(value, bool) else value
            for name, value in values.items()}


def preview(client: Client, participant, values: dict):
    return client.post(reverse("sofa:preview", kwargs={"pk": participant.pk}), page_body(values))


def shown(response) -> dict[str, str]:
    """The preview's cells by their test ids (``respiration`` ... ``total``), as rendered."""
    html = response.content.decode()
    return {name: re.sub(r"<[^>]+>", "", value).strip()
            for name, value in re.findall(r'data-testid="preview-([\w-]+)">(.*?)</(?:td|strong|span)>', html)}


def state() -> tuple[int, int, int]:
    return SofaDay.objects.count(), SofaDay.history.count(), Event.objects.count()


def test_the_preview_shows_what_the_save_then_computes_and_writes_nothing(coordinator_a, make_randomized):
    participant = make_randomized()
    # Day 1 submitted with a liver value, so that day 2 without bilirubin carries it forward.
    form_create(actor=coordinator_a, spec=SOFA_DAY, participant=participant, submit=True,
                data={"day": 1, "bilirubin": "7.0", "bilirubin_unit": "mg/dL", "gcs": 15})
    day2 = {**FULL_DAY, "day": 2, "bilirubin": None, "pao2": "55", "fio2": "0.6"}
    client = client_for(coordinator_a)
    before = state()
    response = preview(client, participant, day2)
    assert response.status_code == 200
    assert state() == before  # no row, no history, no audit event
    cells = shown(response)
    assert "<html" not in response.content.decode()  # a fragment, swapped into the form page
    assert "not saved" in response.content.decode()
    # The same values saved through the form page: the preview showed the stored derivation.
    saved = client.post(reverse("crf:form-new", kwargs={"pk": participant.pk, "slug": "sofa"}), page_body(day2))
    assert saved.status_code == 302
    row = SofaDay.objects.get(participant=participant, day=2)
    assert row.imputed_components == {"liver": "carried_forward_day_1"}
    assert {c: cells[c] for c in COMPONENTS} == {c: str(getattr(row, c)) for c in COMPONENTS}
    assert cells["total"] == str(row.total)
    assert cells["pf-ratio"] == str(row.pf_ratio)


def test_bad_or_partial_values_give_a_partial_score_naming_what_is_left_out(coordinator_a, make_randomized):
    participant = make_randomized()
    # GCS 20 breaks the field's hard limit, platelets do not parse, PaO2 has no FiO2 (the scorer's
    # own rule): those components are left out and named; the rest is scored.
    values = {**FULL_DAY, "day": 1, "gcs": 20, "platelets": "many", "fio2": None}
    client = client_for(coordinator_a)
    before = state()
    response = preview(client, participant, values)
    assert response.status_code == 200 and state() == before
    cells, html = shown(response), response.content.decode()
    assert cells["cns"] == cells["coagulation"] == cells["respiration"] == "—"
    unscored = re.search(r'data-testid="preview-unscored">(.*?)</p>', html, re.S).group(1)
    assert all(name in unscored for name in ("Respiration", "Coagulation", "CNS"))
    assert "FiO2" in html and "GCS" in html and "platelets" in html.lower()
    # The rest matches a save of the values without the left-out components.
    kept = {k: v for k, v in values.items() if k not in ("gcs", "platelets", "pao2", "pao2_unit", "respiratory_support", "fio2")}
    row = form_create(actor=coordinator_a, spec=SOFA_DAY, participant=participant, data=kept)
    for component in ("liver", "cardiovascular", "renal"):
        assert cells[component] == str(getattr(row, component))
    assert cells["total"] == str(row.liver + row.cardiovascular + row.renal)
    # Whatever is posted, the answer is a fragment that names the problem, never an error page.
    for garbage in ({"day": "99"}, {"day": "1", "pao2": "1e400", "fio2": "NaN"}, {"day": "1", "gcs": "3.5"},
                    {"day": "2", "respiratory_support": "bogus", "creatinine": "-1"}, {}):
        response = preview(client, participant, garbage)
        assert response.status_code == 200 and state() == (before[0] + 1, before[1] + 1, before[2]), garbage
        assert 'data-testid="preview-problems"' in response.content.decode()
    # Without a study day the components are scored but no total: its fill rule needs the day.
    no_day = shown(preview(client, participant, {**FULL_DAY, "day": None}))
    assert no_day["total"] == "—" and no_day["renal"] == str(row.renal) and no_day["liver"] == str(row.liver)


def test_only_who_enters_that_participants_sofa_gets_a_preview(make_user, site_b, coordinator_a, make_randomized):
    participant = make_randomized()
    other_site = make_user("coordinator", sites=[site_b])
    monitor = make_user("monitor")
    values = {**FULL_DAY, "day": 1}
    assert preview(client_for(coordinator_a), participant, values).status_code == 200
    assert preview(client_for(other_site), participant, values).status_code == 404
    assert preview(client_for(monitor), participant, values).status_code == 403  # reads SOFA, does not enter it
    assert client_for(coordinator_a).get(reverse("sofa:preview", kwargs={"pk": participant.pk})).status_code == 405


def test_the_sofa_form_asks_for_the_preview_and_a_refused_save_lists_each_error_first(coordinator_a, make_randomized):
    participant = make_randomized()
    client = client_for(coordinator_a)
    url = reverse("crf:form-new", kwargs={"pk": participant.pk, "slug": "sofa"})
    blank = client.get(url).content.decode()
    assert f'hx-post="{reverse("sofa:preview", kwargs={"pk": participant.pk})}"' in blank
    assert 'id="entry-preview"' in blank and "error-summary" not in blank
    before = state()
    # A value the form field refuses, then one the save's own rules refuse (PaO2 without FiO2):
    # both are listed at the top, each linking to its input.
    for values, field_id in (({"gcs": 20}, "id_f-gcs"), ({"fio2": None}, "id_f-fio2")):
        response = client.post(url, page_body({**FULL_DAY, "day": 1, **values}))
        assert response.status_code == 200 and state() == before
        html = response.content.decode()
        summary = re.search(r'<div class="error-summary[^"]*" role="alert".*?</div>', html, re.S).group(0)
        assert "There is a problem" in summary
        links = re.findall(r'<a href="#([\w-]+)">', summary)
        assert links == [field_id]
        assert field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([\w-]+)"', html)


def test_the_sofa_form_groups_its_fields_by_organ_system(coordinator_a, make_randomized):
    """Each organ system's fields under its heading, in the SOFA table's order; the study day
    first, under no heading. The sections name every entry field once (the spec registry
    refuses anything else)."""
    participant = make_randomized()
    html = client_for(coordinator_a).get(reverse("crf:form-new", kwargs={"pk": participant.pk, "slug": "sofa"})).content.decode()
    sections = re.findall(r'<fieldset class="form-section"><legend>(.*?)</legend>(.*?)</fieldset>', html, re.S)
    inputs = {heading: re.findall(r'name="f-([\w]+)"', body) for heading, body in sections}
    assert list(inputs) == ["Respiration", "Coagulation", "Liver", "Cardiovascular", "Central nervous system", "Renal"]
    # The inputs of each organ's row of the SOFA table (sofa.md), with their units.
    assert inputs == {"Respiration": ["pao2", "pao2_unit", "fio2", "respiratory_support"],
                      "Coagulation": ["platelets"], "Liver": ["bilirubin", "bilirubin_unit"],
                      "Cardiovascular": ["map", "dopamine", "dobutamine", "epinephrine", "norepinephrine"],
                      "Central nervous system": ["gcs", "gcs_sedated"],
                      "Renal": ["creatinine", "creatinine_unit", "urine_output"]}
    before_sections = html[:html.index('<fieldset class="form-section">')]
    assert re.findall(r'name="f-(\w+)"', before_sections) == ["day"]
    assert sorted(re.findall(r'name="f-(\w+)"', html)) == sorted(SOFA_DAY.fields)  # each input once
    named = [n for names in inputs.values() for n in names] + ["day"]
    assert sorted(named) == sorted(SOFA_DAY.fields)


def test_a_section_must_name_entry_fields_once():
    for sections in ((("Heart", ("heart_rate", "pulse")),), (("A", ("heart_rate",)), ("B", ("heart_rate",)))):
        with pytest.raises(RuntimeError, match="each section names entry fields of the form, each field once"):
            register(dataclasses.replace(VITALS, sections=sections))
    assert get_spec(VITALS.key).sections == ()
