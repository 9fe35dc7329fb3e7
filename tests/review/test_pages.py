"""The review pages, without JavaScript: the lock console with the gate, verification, signing,
and the casebook's overlays."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.crf.annotations import ALL_FIELDS, field_notes_for
from ecrf.crf.models import LockScope
from ecrf.crf.registry import get_spec
from ecrf.crf.services import form_create, form_update
from ecrf.review import selectors
from ecrf.review.models import Signature, Verification
from ecrf.review.services import form_verify, scope_freeze, signature_create
from tests.conftest import PASSWORD
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db
ATHENS = zoneinfo.ZoneInfo("Europe/Athens")  # site A's zone, the viewers' zone on these pages


def _client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_the_lock_console_lists_the_gate_blockers_and_refuses_the_study_lock(users, randomized):
    dm = _client(users[Role.DATA_MANAGER])
    page = dm.get("/review/locks/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="gate-blockers"' in html
    # The signature blocker opens the casebook: the sign page is the investigators' (403 for a data manager).
    assert f'href="/participants/{randomized.pk}/casebook/"' in html and "Every casebook signed by an investigator" in html
    assert f'href="/review/participants/{randomized.pk}/sign/"' not in html
    refused = dm.post("/review/locks/", {"kind": "lock", "level": "study", "reason": "DB lock"})
    assert refused.status_code == 409 and 'data-testid="lock-refused"' in refused.content.decode()
    assert not LockScope.objects.exists()
    frozen = dm.post("/review/locks/", {"kind": "freeze", "level": "participant", "participant": randomized.pk, "reason": "Review"})
    assert frozen.status_code == 302
    scope = LockScope.objects.get()
    assert scope.kind == "freeze" and scope.participant == randomized and scope.set_by == users[Role.DATA_MANAGER]
    assert dm.post(f"/review/locks/{scope.pk}/unlock/", {"reason": ""}).status_code == 400
    assert LockScope.objects.get().is_active
    assert dm.post(f"/review/locks/{scope.pk}/unlock/", {"reason": "Done"}).status_code == 302
    assert not LockScope.objects.get().is_active
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        assert 'data-testid="gate-clear"' in dm.get("/review/locks/").content.decode()


def test_verify_and_sign_pages_and_the_casebook_shows_their_state(users, coordinator, participant_a, vitals):
    monitor = _client(users[Role.MONITOR])
    page = monitor.get(f"/review/participants/{participant_a.pk}/verification/")
    assert page.status_code == 200 and "Not verified" in page.content.decode()
    done = monitor.post(f"/review/participants/{participant_a.pk}/verification/",
                        {"form_slug": VITALS.slug, "form_id": vitals.pk, "expected_version": vitals.version})
    assert done.status_code == 302 and Verification.objects.count() == 1
    investigator = _client(users[Role.INVESTIGATOR])
    expected = selectors.casebook_states([participant_a.pk])[participant_a.pk].manifest_hash
    wrong = investigator.post(f"/review/participants/{participant_a.pk}/sign/", {"meaning": "approve", "password": "nope",
                                                                                  "expected": expected})
    assert wrong.status_code == 403 and "not correct" in wrong.content.decode() and not Signature.objects.exists()
    signed = investigator.post(f"/review/participants/{participant_a.pk}/sign/", {"meaning": "approve", "password": PASSWORD,
                                                                                   "expected": expected})
    assert signed.status_code == 302 and Signature.objects.count() == 1
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 91}, version=vitals.version, reason="Chart")
    again = investigator.get(f"/review/participants/{participant_a.pk}/sign/").content.decode()
    assert "Needs signing again" in again and "Void: needs signing again" in again
    stale = monitor.get(f"/review/participants/{participant_a.pk}/verification/").content.decode()
    assert "Verification stale" in stale and "Verify again" in stale
    notes = _client(coordinator).get(f"/forms/{VITALS.slug}/{vitals.pk}/")
    assert notes.status_code == 200


def test_the_casebook_cell_shows_verified_signed_and_frozen_with_the_legend(users, coordinator, randomized):
    spec = get_spec("outcomes.vital_status")
    vital = form_create(actor=coordinator, spec=spec, participant=randomized, submit=True,
                        data={"day": 28, "vital_status": "alive", "assessed_on": dt.date(2025, 4, 6)})
    cell = 'data-testid="cell-outcomes.vital_status-28"'
    form_verify(actor=users[Role.MONITOR], spec=spec, form=vital, version=vital.version)
    state = selectors.casebook_states([randomized.pk])[randomized.pk]
    signature_create(actor=users[Role.INVESTIGATOR], participant=randomized, meaning="approve", password=PASSWORD,
                     expected=state.manifest_hash)
    monitor = _client(users[Role.MONITOR])

    def cell_html() -> str:
        html = monitor.get(f"/participants/{randomized.pk}/casebook/").content.decode()
        start = html.index(cell)
        return html[start:html.index("</td>", start)]

    snippet = cell_html()
    assert ">Signed</a>" in snippet and ">Verified</span>" in snippet and "Needs signing again" not in snippet
    # A correction: the cell shows the stale verification and the void signature.
    vital = form_update(actor=coordinator, spec=spec, form=vital, data={"assessed_on": dt.date(2025, 4, 7)},
                        version=vital.version, reason="Chart")
    snippet = cell_html()
    assert ">Verification stale</span>" in snippet and ">Needs signing again</span>" in snippet
    assert ">Verified</span>" not in snippet and ">Signed<" not in snippet
    scope_freeze(actor=users[Role.DATA_MANAGER], level="participant", participant=randomized, reason="Review")
    snippet = cell_html()
    assert ">Frozen</a>" in snippet and ">Verification stale</span>" in snippet
    legend = monitor.get(f"/participants/{randomized.pk}/casebook/").content.decode().split('class="legend"')[1]
    assert all(label in legend for label in ("Queried", "Verified", "Signed", "Frozen", "Locked", "Needs signing again"))


def test_the_form_page_notes_say_verified_then_stale(users, coordinator, vitals):
    assert field_notes_for(coordinator, vitals) == {}
    form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=vitals.version)
    notes = field_notes_for(coordinator, vitals)[ALL_FIELDS]
    assert [(n.kind, n.tone) for n in notes] == [("verification", "info")] and "version 1" in notes[0].text
    changed = form_update(actor=coordinator, spec=VITALS, form=vitals, data={"temperature": "39.0"}, version=1, reason="Chart")
    stale = field_notes_for(coordinator, changed)
    assert stale[ALL_FIELDS][0].tone == "warning" and "now version 2" in stale[ALL_FIELDS][0].text
    # Outside the casebook's review readers, no note.
    assert field_notes_for(users[Role.PHARMACIST], changed) == {}


# --- field-level verification -------------------------------------------------------------------

def _sdv(participant) -> str:  # noqa: ANN001
    return f"/review/participants/{participant.pk}/verification/"


def _row(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start:html.index("</tr>", start)]


def test_a_monitor_verifies_some_fields_and_a_later_change_shows_which_are_stale(users, coordinator, participant_a, vitals):
    monitor = _client(users[Role.MONITOR])
    page = monitor.get(_sdv(participant_a)).content.decode()
    fields = page[page.index(f'data-testid="sdv-fields-{VITALS.slug}-{vitals.pk}"'):]
    # Each entered field with its label, its value as read and its state; the derived one is not offered.
    assert "temperature (°C)" in _row(fields, "sdv-field-temperature") and ">38.5<" in _row(fields, "sdv-field-temperature")
    assert ">Not verified<" in _row(fields, "sdv-field-heart_rate") and 'value="fever"' not in fields
    assert f'name="expected_version" value="{vitals.version}"' in fields
    body = {"form_slug": VITALS.slug, "form_id": vitals.pk, "expected_version": 1, "scope": "fields"}
    done = monitor.post(_sdv(participant_a), {**body, "fields": ["temperature", "measured_on"]})
    assert done.status_code == 302
    row = Verification.objects.get()
    assert row.fields == ["temperature", "measured_on"] and row.version == 1 and row.verified_by == users[Role.MONITOR]
    page = monitor.get(_sdv(participant_a)).content.decode()
    assert "fields verified: temperature (°C), measured on." in page
    assert "Partly verified: 2 of 4 fields" in _row(page, f"sdv-{VITALS.slug}-{vitals.pk}")
    assert "Verified at version 1" in _row(page, "sdv-field-temperature") and ">Not verified<" in _row(page, "sdv-field-notes")
    assert monitor.post(_sdv(participant_a), {**body, "fields": ["heart_rate"]}).status_code == 302
    assert "Partly verified: 3 of 4 fields" in _row(monitor.get(_sdv(participant_a)).content.decode(), f"sdv-{VITALS.slug}-{vitals.pk}")
    # A correction of a verified field: the verification that covered it is stale (both of its
    # fields), the other one still holds; no row changes.
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"temperature": "38.9"}, version=1, reason="Chart")
    page = monitor.get(_sdv(participant_a)).content.decode()
    state = _row(page, f"sdv-{VITALS.slug}-{vitals.pk}")
    assert "Verification stale: 2 of 4 fields to verify again; 1 still verified" in state and "Verify again" in state
    assert "Stale: verified at version 1, changed since" in _row(page, "sdv-field-temperature")
    assert ">38.9<" in _row(page, "sdv-field-temperature")
    assert "Verified at version 1" in _row(page, "sdv-field-heart_rate")
    assert [r.history.count() for r in Verification.objects.all()] == [1, 1]
    # The whole form, at its new version.
    assert monitor.post(_sdv(participant_a), {**body, "expected_version": 2, "scope": "form"}).status_code == 302
    assert list(Verification.objects.values_list("fields", "version")) == [
        (["temperature", "measured_on"], 1), (["heart_rate"], 1), ([], 2)]
    assert "Verified (whole form)" in _row(monitor.get(_sdv(participant_a)).content.decode(), f"sdv-{VITALS.slug}-{vitals.pk}")


def test_verifying_fields_of_a_form_changed_since_the_page_was_loaded_is_refused(users, coordinator, participant_a, vitals):
    monitor = _client(users[Role.MONITOR])
    loaded = vitals.version
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 92}, version=loaded, reason="Chart")
    refused = monitor.post(_sdv(participant_a), {"form_slug": VITALS.slug, "form_id": vitals.pk, "expected_version": loaded,
                                                 "scope": "fields", "fields": ["heart_rate"]})
    html = refused.content.decode()
    assert refused.status_code == 409 and not Verification.objects.exists()
    assert "changed since you loaded it (version 2, you saw 1); reload it and verify it again" in _row(html, "sdv-error")
    # The page shown again carries the form's current version and value.
    assert 'name="expected_version" value="2"' in html and ">92<" in _row(html, "sdv-field-heart_rate")


def test_verifying_no_field_or_a_name_the_form_lacks_is_refused_and_records_nothing(users, participant_a, vitals):
    monitor = _client(users[Role.MONITOR])
    body = {"form_slug": VITALS.slug, "form_id": vitals.pk, "expected_version": vitals.version, "scope": "fields"}
    none_ticked = monitor.post(_sdv(participant_a), body)
    assert none_ticked.status_code == 400 and "tick the fields you verified" in none_ticked.content.decode()
    for name in ("fever", "arm"):  # derived on the server; not a field at all
        refused = monitor.post(_sdv(participant_a), {**body, "fields": ["temperature", name]})
        assert refused.status_code == 400
        assert f"Verify fields of this form only. Not a field of {VITALS.label}: {name}" in _row(refused.content.decode(), "sdv-error")
    assert not Verification.objects.exists()


def test_only_monitors_and_data_managers_verify_fields_and_only_their_sites(users, make_user, site_b, participant_a, vitals):
    body = {"form_slug": VITALS.slug, "form_id": vitals.pk, "expected_version": vitals.version, "scope": "fields",
            "fields": ["temperature"]}
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.SPONSOR):
        assert _client(users[role]).post(_sdv(participant_a), body).status_code == 403
    assert _client(make_user(Role.MONITOR, sites=[site_b])).post(_sdv(participant_a), body).status_code == 404
    assert not Verification.objects.exists()
    assert _client(users[Role.DATA_MANAGER]).post(_sdv(participant_a), body).status_code == 302


# --- single-form signing ------------------------------------------------------------------------

def _sign_url(participant, form=None) -> str:  # noqa: ANN001
    url = f"/review/participants/{participant.pk}/sign/"
    return f"{url}?form_slug={VITALS.slug}&form_id={form.pk}" if form is not None else url


def _form_body(form, version, password=PASSWORD) -> dict:  # noqa: ANN001
    return {"form_slug": VITALS.slug, "form_id": form.pk, "expected": version, "meaning": "review", "password": password}


@pytest.fixture
def dr(make_user):
    return make_user(Role.INVESTIGATOR, first_name="Eleni", last_name="Papadopoulou")


def test_an_investigator_signs_one_form_and_a_later_change_voids_it_visibly(dr, users, coordinator, participant_a, vitals):
    investigator = _client(dr)
    casebook = investigator.get(_sign_url(participant_a)).content.decode()
    assert f'href="{_sign_url(participant_a, vitals).replace("&", "&amp;")}"' in _row(casebook, f"sign-{VITALS.slug}-{vitals.pk}")
    page = investigator.get(_sign_url(participant_a, vitals))
    html = page.content.decode()
    assert page.status_code == 200 and "This form is not signed on its own yet." in html
    assert "I have reviewed the data of this form" in html and "this casebook" not in html.split('data-testid="form-sign-form"')[1]
    assert "temperature (°C)" in html and "38.5" in html and 'name="expected" value="1"' in html
    signed = investigator.post(_sign_url(participant_a), _form_body(vitals, 1))
    assert signed.status_code == 302 and signed["Location"] == _sign_url(participant_a, vitals)
    sig = Signature.objects.get()
    assert (sig.level, sig.form_id, sig.signer, sig.signer_name) == ("form", vitals.pk, dr, "Eleni Papadopoulou")
    assert sig.meaning_text == "I have reviewed the data of this form" and sig.records[0]["version"] == 1
    utc, local = sig.signed_at.strftime("%Y-%m-%d %H:%M"), timezone.localtime(sig.signed_at, ATHENS).strftime("%Y-%m-%d %H:%M %Z")
    shown = f"Signed by Eleni Papadopoulou on {utc} UTC ({local}): “I have reviewed the data of this form”"
    html = investigator.get(_sign_url(participant_a, vitals)).content.decode()
    assert f"Vital signs (test form) #{vitals.pk} signed." in html and shown in html
    assert shown in _row(investigator.get(_sign_url(participant_a)).content.decode(), f"sign-{VITALS.slug}-{vitals.pk}")
    # The form's page shows it to its readers; the casebook is not signed by it.
    assert shown in _client(coordinator).get(f"/forms/{VITALS.slug}/{vitals.pk}/").content.decode()
    assert not selectors.casebook_states([participant_a.pk])[participant_a.pk].signed
    # A correction voids it: said on the signing pages and on the form's page, with the way to sign again.
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"notes": "Rechecked"}, version=1, reason="Chart")
    row = _row(investigator.get(_sign_url(participant_a)).content.decode(), f"sign-{VITALS.slug}-{vitals.pk}")
    assert "Void: changed since signed; needs signing again" in row and "Sign this form again" in row
    html = investigator.get(_sign_url(participant_a, vitals)).content.decode()
    assert "Signature void: this form changed since it was signed at version 1 (now version 2)" in html
    assert "Void: needs signing again" in html and 'name="expected" value="2"' in html
    note = investigator.get(f"/forms/{VITALS.slug}/{vitals.pk}/").content.decode()
    assert "Signature void: signed by Eleni Papadopoulou" in note and "this form needs signing again" in note
    assert f'href="{_sign_url(participant_a, vitals).replace("&", "&amp;")}"' in note
    assert Signature.objects.get().history.count() == 1  # the signature itself is untouched


def test_a_wrong_password_on_a_form_signature_is_refused_counted_and_nothing_is_signed(dr, participant_a, vitals):
    investigator = _client(dr)
    refused = investigator.post(_sign_url(participant_a), _form_body(vitals, 1, password="wrong-password"),
                                REMOTE_ADDR="198.51.100.9")
    html = refused.content.decode()
    assert refused.status_code == 403 and "the password given is not correct" in html and "Incorrect password." in html
    assert not Signature.objects.exists()
    assert Event.objects.filter(kind=EventKind.REAUTH_FAILED, actor=dr).count() == 1
    assert AccessAttempt.objects.get(username=dr.username).failures_since_start == 1
    # The page is the form's again, ready for the password.
    assert 'data-testid="form-sign-form"' in html and f'name="form_id" value="{vitals.pk}"' in html


def test_signing_a_form_changed_since_it_was_loaded_or_a_draft_is_refused(dr, coordinator, participant_a, vitals):
    investigator = _client(dr)
    form_update(actor=coordinator, spec=VITALS, form=vitals, data={"heart_rate": 88}, version=1, reason="Chart")
    refused = investigator.post(_sign_url(participant_a), _form_body(vitals, 1))
    assert refused.status_code == 409 and "changed since you loaded it (version 2); reload it and sign again" in refused.content.decode()
    draft = form_create(actor=coordinator, spec=VITALS, participant=participant_a,
                        data={"measured_on": dt.date(2026, 11, 22), "temperature": "37.0", "heart_rate": 70})
    page = investigator.get(_sign_url(participant_a, draft)).content.decode()
    assert "only submitted forms (or forms marked not done) are signed" in page and 'data-testid="form-sign-form"' not in page
    assert "Sign this form" not in _row(investigator.get(_sign_url(participant_a)).content.decode(), f"sign-{VITALS.slug}-{draft.pk}")
    assert investigator.post(_sign_url(participant_a), _form_body(draft, 1)).status_code == 409
    assert not Signature.objects.exists()


def test_only_the_sites_investigators_sign_a_form(users, make_user, site_b, participant_a, participant_b, vitals):
    for role in (Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER):
        client = _client(users[role])
        assert client.get(_sign_url(participant_a, vitals)).status_code == 403
        assert client.post(_sign_url(participant_a), _form_body(vitals, 1)).status_code == 403
    assert _client(make_user(Role.INVESTIGATOR, sites=[site_b])).post(_sign_url(participant_a), _form_body(vitals, 1)).status_code == 404
    # A form of another participant, named on this participant's page: not found.
    assert _client(users[Role.INVESTIGATOR]).post(_sign_url(participant_b), _form_body(vitals, 1)).status_code == 404
    assert not Signature.objects.exists()
    # The form's page offers the action to the site's investigators only.
    assert "Sign this form" in _client(users[Role.INVESTIGATOR]).get(f"/forms/{VITALS.slug}/{vitals.pk}/").content.decode()
    assert "Sign this form" not in _client(users[Role.COORDINATOR]).get(f"/forms/{VITALS.slug}/{vitals.pk}/").content.decode()
