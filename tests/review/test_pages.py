"""The review pages, without JavaScript: the lock console with the gate, verification, signing,
and the casebook's overlays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings

from ecrf.accounts.roles import Role
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
