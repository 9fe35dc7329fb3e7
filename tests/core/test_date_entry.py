"""Dates and times are entered in a pattern that cannot be misread, in every language.

"01/12/2026 08:30" means 1 December in Greece and 12 January under Django's English input
formats; every date and date-time field of every page form must refuse it (with a message that
shows the pattern) or read it as 1 December, never as 12 January.
"""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo

import pytest
from django import forms
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone, translation

from ecrf.core.fields import EntryDateField, EntryDateTimeField
from ecrf.crf.registry import all_specs
from ecrf.crf.views import entry_form
from ecrf.screening.models import Consent
from ecrf.screening.views import _screening_form_class
from tests.conftest import PASSWORD

AMBIGUOUS_DATETIME = "01/12/2026 08:30"
AMBIGUOUS_DATE = "01/12/2026"
LANGUAGES = [code for code, _ in settings.LANGUAGES]
# Every module whose page forms take a date or a time.
VIEW_MODULES = ("ecrf.crf.views", "ecrf.screening.views", "ecrf.dosing.views", "ecrf.pharmacy.views", "safety.views",
                "ecrf.exports.views")


def _date_fields(form: forms.BaseForm) -> dict[str, forms.Field]:
    return {name: f for name, f in form.fields.items() if isinstance(f, forms.DateField | forms.DateTimeField)}


def _never_12_january(value: object) -> None:
    assert not (isinstance(value, dt.date) and value.month == 1 and value.day == 12), value


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_language_reads_a_slashed_date(lang):
    with translation.override(lang):
        assert formats.get_format("DATE_INPUT_FORMATS") == ["%Y-%m-%d"]
        for pattern in formats.get_format("DATETIME_INPUT_FORMATS"):
            assert pattern.startswith("%Y-%m-%d"), pattern


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_crf_page_form_refuses_the_ambiguous_date(lang):
    athens = zoneinfo.ZoneInfo("Europe/Athens")
    checked = 0
    with translation.override(lang), timezone.override(athens):
        for spec in all_specs():
            fields = _date_fields(entry_form(spec))
            for name, field in fields.items():
                typed = AMBIGUOUS_DATETIME if isinstance(field, forms.DateTimeField) else AMBIGUOUS_DATE
                form = entry_form(spec, data={f"f-{name}": typed})
                assert not form.is_valid()
                assert name in form.errors, (spec.key, name)
                assert "YYYY-MM-DD" in " ".join(form.errors[name]), (spec.key, name, form.errors[name])
                _never_12_january(form.cleaned_data.get(name))
                # The unambiguous spelling is read as 1 December in the viewer's zone.
                iso = "2026-12-01 08:30" if isinstance(field, forms.DateTimeField) else "2026-12-01"
                parsed = entry_form(spec, data={f"f-{name}": iso})
                parsed.is_valid()
                assert name not in parsed.errors, (spec.key, name, parsed.errors.get(name))
                value = parsed.cleaned_data[name]
                if isinstance(value, dt.datetime):
                    assert value == dt.datetime(2026, 12, 1, 8, 30, tzinfo=athens)
                else:
                    assert value == dt.date(2026, 12, 1)
                checked += 1
    assert checked >= 10  # consent, Sepsis-3 onset, doses, deaths, AEs, labs, medications...


@pytest.mark.django_db
def test_every_page_form_uses_the_unambiguous_fields():
    """The hand-written page forms too: no Django date field that would take another pattern."""
    found = []
    for module_name in VIEW_MODULES:
        module = importlib.import_module(module_name)
        classes = [obj for obj in vars(module).values()
                   if isinstance(obj, type) and issubclass(obj, forms.BaseForm) and obj.__module__ == module_name]
        if module_name == "ecrf.screening.views":
            classes.append(_screening_form_class())
        for form_class in classes:
            for name, field in form_class.base_fields.items():
                if isinstance(field, forms.DateTimeField):
                    assert isinstance(field, EntryDateTimeField), (module_name, form_class.__name__, name)
                    found.append(name)
                elif isinstance(field, forms.DateField):
                    assert isinstance(field, EntryDateField), (module_name, form_class.__name__, name)
                    found.append(name)
    assert {"sepsis3_at", "decided_at", "withdrawn_on", "started_at", "prepared_at", "submitted_at", "cutoff_at"} <= set(found)


def test_a_date_time_needs_its_time():
    field = EntryDateTimeField()
    with pytest.raises(forms.ValidationError) as refused:
        field.clean("2026-12-01")
    assert "time as well" in str(refused.value)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Athens")):
        assert field.clean("2026-12-01T08:30+00:00") == dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_consent_page_refuses_the_ambiguous_time_and_names_the_zone(coordinator, users, site_a):
    from tests.support.screening import screen

    participant = screen(coordinator, site_a, "SCR-DATE-1").participant
    client = Client()
    assert client.login(username=coordinator.username, password=PASSWORD)
    url = f"/participants/{participant.pk}/forms/consents/new/"
    page = client.get(url).content.decode()
    assert "Format YYYY-MM-DD HH:MM, Europe/Athens time" in page
    response = client.post(url, {"f-consent_by": "patient", "f-decision": "given", "f-form_version": "v1.0",
                                 "f-consented_at": AMBIGUOUS_DATETIME, "save": "1"})
    assert response.status_code == 200
    assert "Enter the date and time as YYYY-MM-DD HH:MM" in response.content.decode()
    assert not Consent.objects.filter(participant=participant).exists()
