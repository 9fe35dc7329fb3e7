"""The interface in Greek (the sponsor's language): the catalogue, its compiled form, and the
language switch in every page's header. Dates are entered as YYYY-MM-DD in Greek too."""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "el" / "LC_MESSAGES"
# Python's %-placeholders (named or not), str.format's {fields} and Django's {{ variables }}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\{\s*[\w.]+\s*\}\}|\{\w*\}")


def _placeholders(text: str) -> collections.Counter:
    return collections.Counter(PLACEHOLDER.findall(text))


def _entries() -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(CATALOGUE / "django.po")) if not e.obsolete]


def test_every_greek_entry_is_translated_and_keeps_its_placeholders():
    entries = _entries()
    assert len(entries) > 1000
    untranslated = [e.msgid for e in entries if not e.translated()]
    assert not untranslated, f"{len(untranslated)} strings without a Greek translation (make messages), e.g. {untranslated[:5]}"
    wrong = []
    for e in entries:
        forms = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        for form in forms:
            # A plural form may leave out the count's placeholder (the singular often does).
            wanted = _placeholders(e.msgid_plural or e.msgid)
            if _placeholders(form) != wanted and not (e.msgid_plural and set(_placeholders(form)) <= set(wanted)):
                wrong.append(f"{e.msgid!r} -> {form!r}")
    assert not wrong, "translations that change the placeholders (they would fail or show the wrong value):\n" + "\n".join(wrong)


def test_the_compiled_catalogue_is_the_catalogue():
    """The committed .mo (what Django reads) holds exactly the .po's translations."""
    def table(entries) -> dict:  # noqa: ANN001
        return {(e.msgctxt, e.msgid): (tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr)
                for e in entries if e.msgid}

    compiled = polib.mofile(str(CATALOGUE / "django.mo"))
    assert table(compiled) == table(_entries()), "locale/el/LC_MESSAGES/django.mo is stale: run make messages"


@pytest.mark.gettext
def test_the_catalogue_lists_every_string_of_the_code(tmp_path):
    """makemessages over a copy of the code finds no string the catalogue lacks, and the
    catalogue keeps none the code no longer has."""
    base = Path(settings.BASE_DIR)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("ecrf", "safety", "templates", "locale"):
        shutil.copytree(base / part, tmp_path / part, ignore=ignore)
    shutil.copy(base / "manage.py", tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ecrf.settings", "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "ECRF_EXTRA_APPS": ""}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "el", "--no-obsolete"], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    regenerated = {(e.msgctxt, e.msgid) for e in polib.pofile(str(tmp_path / "locale/el/LC_MESSAGES/django.po"))
                   if not e.obsolete}
    committed = {(e.msgctxt, e.msgid) for e in _entries()}
    assert not regenerated - committed, f"strings missing from the catalogue (make messages): {sorted(regenerated - committed)[:10]}"
    assert not committed - regenerated, f"strings the code no longer has (make messages): {sorted(committed - regenerated)[:10]}"


@pytest.mark.django_db
def test_the_switch_turns_the_pages_into_greek_and_dates_stay_iso(users, randomized):
    client = Client()
    assert client.login(username=users["coordinator"].username, password=PASSWORD)
    english = client.get(reverse("home:home")).content.decode()
    assert '<html lang="en">' in english and "Log out" in english

    response = client.post(reverse("set_language"), {"language": "el", "next": reverse("home:home")})
    assert response.status_code == 302 and response["Location"] == reverse("home:home")
    greek = client.get(reverse("home:home")).content.decode()
    assert '<html lang="el">' in greek
    assert "Log out" not in greek and GREEK_LOG_OUT in greek
    assert f'<option value="el" lang="el" selected>{GREEK_NAME}</option>' in greek

    # A date entry page in Greek: the pattern is ISO 8601, as in English.
    page = client.get(reverse("crf:form-new", kwargs={"pk": randomized.pk, "slug": "deaths"})).content.decode()
    assert '<html lang="el">' in page and "YYYY-MM-DD HH:MM" in page


@pytest.mark.django_db
def test_the_login_page_offers_the_switch_and_refuses_a_language_it_does_not_have():
    client = Client()
    assert 'data-testid="language-switch"' in client.get(reverse("accounts:login")).content.decode()
    # French has no catalogue: the switch leaves the interface as it was.
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert '<html lang="en">' in client.get(reverse("accounts:login")).content.decode()
    client.post(reverse("set_language"), {"language": "el", "next": "/"})
    assert '<html lang="el">' in client.get(reverse("accounts:login")).content.decode()
    # The switch sends nobody off the site.
    response = client.post(reverse("set_language"), {"language": "el", "next": "https://example.org/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://example.org")


GREEK_LOG_OUT = "Αποσύνδεση"
GREEK_NAME = "Ελληνικά"


@pytest.mark.django_db
def test_every_panel_of_the_participant_page_is_headed_in_greek(users, randomized):
    client = Client()
    client.force_login(users["coordinator"])
    url = reverse("crf:participant-detail", kwargs={"pk": randomized.pk})
    english = re.findall(r'<h2 id="panel-\d+">(.*?)</h2>', client.get(url).content.decode())
    client.post(reverse("set_language"), {"language": "el", "next": "/"})
    greek = re.findall(r'<h2 id="panel-\d+">(.*?)</h2>', client.get(url).content.decode())
    assert len(english) == len(greek) >= 4
    assert [e for e, g in zip(english, greek, strict=True) if e == g] == []
