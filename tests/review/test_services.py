"""Freeze, lock, unlock and the study-lock gate; verification and signatures (services)."""

from __future__ import annotations

import re

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory, override_settings

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_create, form_update
from ecrf.review import gate, selectors
from ecrf.review.errors import ReviewError
from ecrf.review.models import Signature, Verification
from ecrf.review.services import form_verify, scope_freeze, scope_lock, scope_unlock, signature_create
from tests.conftest import PASSWORD
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


def _change(user, form, **data):  # noqa: ANN001, ANN003, ANN202
    return form_update(actor=user, spec=VITALS, form=form, data=data, version=form.version, reason="Source says so")


def _sign(users, participant, password=PASSWORD, request=None):  # noqa: ANN001, ANN202
    state = selectors.casebook_states([participant.pk])[participant.pk]
    return signature_create(actor=users[Role.INVESTIGATOR], participant=participant, meaning="approve", password=password,
                            expected=state.manifest_hash, request=request)


# --- freeze, lock, unlock -----------------------------------------------------------------------

def test_only_data_managers_freeze_lock_and_unlock(users, participant_a):
    for role in (Role.MONITOR, Role.INVESTIGATOR, Role.ADMIN, Role.STATISTICIAN):
        with pytest.raises(DomainError) as info:
            scope_freeze(actor=users[role], level="participant", participant=participant_a, reason="x")
        assert info.value.code == ErrorCode.FORBIDDEN
    scope = scope_lock(actor=users[Role.DATA_MANAGER], level="participant", participant=participant_a, reason="Cleaned")
    with pytest.raises(DomainError):
        scope_unlock(actor=users[Role.MONITOR], scope=scope, reason="x")
    assert not LockScope.objects.exclude(pk=scope.pk).exists() and LockScope.objects.get(pk=scope.pk).is_active


def test_frozen_data_accepts_verification_and_signatures_but_no_edits(users, coordinator, participant_a, vitals):
    scope_freeze(actor=users[Role.DATA_MANAGER], level="participant", participant=participant_a, reason="Interim review")
    with pytest.raises(DomainError) as info:
        _change(coordinator, vitals, heart_rate=90)
    assert info.value.code == ErrorCode.LOCKED
    vitals.refresh_from_db()
    assert vitals.heart_rate == 100 and vitals.version == 1
    row = form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=vitals.version)
    sig = _sign(users, participant_a)
    assert row.pk and sig.pk and not selectors.signature_void(sig, selectors.casebook_states([participant_a.pk])[participant_a.pk].records)


def test_locked_data_accepts_no_verification_and_no_signature(users, participant_a, vitals):
    scope_lock(actor=users[Role.DATA_MANAGER], level="form", form=vitals, reason="Final")
    with pytest.raises(DomainError) as info:
        form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=vitals.version)
    assert info.value.code == ErrorCode.LOCKED
    with pytest.raises(DomainError) as info:
        _sign(users, participant_a)
    assert info.value.code == ErrorCode.LOCKED
    assert not Verification.objects.exists() and not Signature.objects.exists()


def test_unlock_needs_a_reason_and_is_audited(users, coordinator, participant_a, vitals):
    dm = users[Role.DATA_MANAGER]
    scope = scope_lock(actor=dm, level="participant", participant=participant_a, reason="Casebook clean")
    assert Event.objects.filter(kind=EventKind.LOCK, object_id=str(scope.pk), reason="Casebook clean").exists()
    for reason in ("", "   "):
        with pytest.raises(DomainError) as info:
            scope_unlock(actor=dm, scope=scope, reason=reason)
        assert info.value.code == ErrorCode.INVALID and "reason" in info.value.fields
    assert LockScope.objects.get(pk=scope.pk).is_active and scope.history.count() == 1
    assert not Event.objects.filter(kind=EventKind.UNLOCK).exists()
    scope_unlock(actor=dm, scope=scope, reason="Site found a transcription error")
    history = list(LockScope.objects.get(pk=scope.pk).history.order_by("history_id"))
    assert len(history) == 2
    assert history[-1].released_by_id == dm.pk and history[-1].release_reason == "Site found a transcription error"
    assert history[-1].history_user_id == dm.pk and history[0].released_at is None
    event = Event.objects.get(kind=EventKind.UNLOCK, object_id=str(scope.pk))
    assert event.actor == dm and event.reason == "Site found a transcription error"
    # Writable again, and a second unlock is refused.
    _change(coordinator, vitals, heart_rate=95)
    with pytest.raises(DomainError) as info:
        scope_unlock(actor=dm, scope=scope, reason="again")
    assert info.value.code == ReviewError.ALREADY_RELEASED


def test_unfreezing_records_an_unfreeze_event(users, participant_a):
    dm = users[Role.DATA_MANAGER]
    scope = scope_freeze(actor=dm, level="site", site=participant_a.site, reason="Monitoring visit")
    scope_unlock(actor=dm, scope=scope, reason="Visit done")
    assert list(Event.objects.filter(object_id=str(scope.pk), object_type="crf.lockscope").values_list("kind", flat=True)) == [
        EventKind.FREEZE, EventKind.UNFREEZE]


def test_the_same_active_scope_twice_is_refused(users, participant_a):
    dm = users[Role.DATA_MANAGER]
    scope_freeze(actor=dm, level="participant", participant=participant_a, reason="a")
    with pytest.raises(DomainError) as info:
        scope_freeze(actor=dm, level="participant", participant=participant_a, reason="b")
    assert info.value.code == ReviewError.ALREADY_SCOPED
    scope_lock(actor=dm, level="participant", participant=participant_a, reason="now final")
    assert LockScope.objects.filter(participant=participant_a).count() == 2


# --- the study-lock gate ------------------------------------------------------------------------

def test_the_study_lock_gate_lists_its_blockers_and_refuses_with_nothing_changed(users, randomized):
    dm = users[Role.DATA_MANAGER]
    found = gate.blockers()
    conditions = {b.condition for b in found}
    assert {"entry", "verification", "signatures"} <= conditions
    assert all(b.participant_id == randomized.pk and b.url for b in found)
    assert any(b.url == f"/review/participants/{randomized.pk}/sign/" for b in found if b.condition == "signatures")
    # Said in words a data manager reads: a count with its noun, a day named once.
    entry = next(b.message for b in found if b.condition == "entry")
    assert re.search(r": \d+ expected forms? not entered or still (a draft|drafts): ", entry), entry
    assert "(s)" not in entry and " day day " not in entry
    events = Event.objects.count()
    with pytest.raises(gate.GateBlocked) as info:
        scope_lock(actor=dm, level="study", reason="Database lock")
    assert info.value.status == 409 and info.value.code == ReviewError.LOCK_GATE_BLOCKED
    assert info.value.blockers == found
    assert info.value.as_dict()["error"]["blockers"][0]["url"]
    assert not LockScope.objects.exists() and Event.objects.count() == events
    # A freeze of the study is not gated, and the site-level gate sees only that site.
    assert gate.blockers(site_id=randomized.site_id + 999) == []
    scope_freeze(actor=dm, level="study", reason="Pre-lock review")


def test_the_gate_applies_only_the_configured_conditions(users, randomized):
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=["signatures"]):
        assert {b.condition for b in gate.blockers()} == {"signatures"}
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=[]):
        lock = scope_lock(actor=users[Role.DATA_MANAGER], level="study", reason="DB lock 1")
    assert selectors.study_lock_current() == lock and lock.set_by == users[Role.DATA_MANAGER]


def test_verifying_and_signing_clear_their_gate_conditions(users, randomized):
    with override_settings(STUDY_LOCK_GATE_CONDITIONS=["verification", "signatures"]):
        assert {b.condition for b in gate.blockers()} == {"verification", "signatures"}
        for review in selectors.reviews_for_participants([randomized.pk])[randomized.pk]:
            if review.required:
                form_verify(actor=users[Role.MONITOR], spec=review.spec, form=review.form, version=review.form.version)
        assert {b.condition for b in gate.blockers()} == {"signatures"}
        _sign(users, randomized)
        assert gate.blockers() == []
        lock = scope_lock(actor=users[Role.DATA_MANAGER], level="study", reason="Final database lock")
    assert selectors.study_lock_current() == lock


# --- source data verification -------------------------------------------------------------------

def test_a_change_after_verification_makes_it_stale_and_the_row_stays(users, coordinator, vitals):
    row = form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=vitals.version)
    review = selectors.review_of(VITALS, vitals, [row])
    assert review.state == selectors.VState.VERIFIED
    changed = _change(coordinator, vitals, heart_rate=101)
    row.refresh_from_db()
    assert row.version == 1 and selectors.review_of(VITALS, changed, [row]).state == selectors.VState.STALE
    assert Verification.objects.count() == 1 and row.history.count() == 1
    # The change itself is in the form's audit trail, with its reason.
    assert changed.history.latest("history_id").history_change_reason == "Source says so"


def test_a_field_verification_stays_when_another_field_changes(users, coordinator, vitals):
    row = form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=vitals.version, fields=["temperature"])
    changed = _change(coordinator, vitals, heart_rate=101)
    review = selectors.review_of(VITALS, changed, [row])
    assert review.fields == {"temperature": selectors.VState.VERIFIED} and review.state == selectors.VState.PARTIAL
    changed = _change(coordinator, changed, temperature="37.0")
    assert selectors.review_of(VITALS, changed, [row]).state == selectors.VState.STALE


def test_verifying_a_form_changed_since_it_was_loaded_is_refused(users, coordinator, vitals):
    seen = vitals.version
    _change(coordinator, vitals, heart_rate=99)
    with pytest.raises(DomainError) as info:
        form_verify(actor=users[Role.MONITOR], spec=VITALS, form=vitals, version=seen)
    assert info.value.code == ErrorCode.STALE_VERSION and info.value.status == 409
    assert not Verification.objects.exists()


def test_verification_is_for_monitors_of_the_site_and_data_managers(users, make_user, site_b, vitals):
    for user in (users[Role.COORDINATOR], users[Role.INVESTIGATOR], make_user(Role.MONITOR, sites=[site_b])):
        with pytest.raises(DomainError) as info:
            form_verify(actor=user, spec=VITALS, form=vitals, version=vitals.version)
        assert info.value.code in (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
    with pytest.raises(DomainError) as info:
        form_verify(actor=users[Role.DATA_MANAGER], spec=VITALS, form=vitals, version=vitals.version, fields=["fever"])
    assert info.value.code == ErrorCode.INVALID
    assert not Verification.objects.exists()
    assert form_verify(actor=users[Role.DATA_MANAGER], spec=VITALS, form=vitals, version=vitals.version).verified_by == users[Role.DATA_MANAGER]


# --- electronic signatures ----------------------------------------------------------------------

def test_a_signature_records_signer_meaning_versions_and_hash(users, participant_a, vitals):
    sig = _sign(users, participant_a)
    investigator = users[Role.INVESTIGATOR]
    assert sig.signer == investigator and sig.signer_name == (investigator.get_full_name() or investigator.username)
    assert sig.meaning_text == "I approve the data of this casebook"
    assert sig.records == [selectors.form_record(VITALS, vitals)] and sig.records[0]["version"] == vitals.version
    assert len(sig.manifest_hash) == 64
    event = Event.objects.get(kind=EventKind.SIGNATURE, object_id=str(sig.pk))
    assert event.actor == investigator and event.detail["manifest_hash"] == sig.manifest_hash


def test_a_change_after_signing_voids_the_signature(users, coordinator, participant_a, vitals):
    sig = _sign(users, participant_a)
    assert selectors.casebook_states([participant_a.pk])[participant_a.pk].signed
    _change(coordinator, vitals, notes="Corrected from the chart")
    state = selectors.casebook_states([participant_a.pk])[participant_a.pk]
    assert state.signature == sig and state.void and not state.signed
    sig.refresh_from_db()
    assert sig.history.count() == 1  # the signature itself is untouched: void is computed
    assert [(s.pk, void) for s, void in selectors.signatures_for(users[Role.DATA_MANAGER], participant_a)] == [(sig.pk, True)]


def test_signing_a_casebook_that_changed_since_it_was_loaded_is_refused(users, coordinator, participant_a, vitals):
    seen = selectors.casebook_states([participant_a.pk])[participant_a.pk].manifest_hash
    _change(coordinator, vitals, heart_rate=80)
    with pytest.raises(DomainError) as info:
        signature_create(actor=users[Role.INVESTIGATOR], participant=participant_a, meaning="approve", password=PASSWORD,
                         expected=seen)
    assert info.value.code == ErrorCode.STALE_VERSION and not Signature.objects.exists()


def test_a_wrong_password_is_refused_counted_toward_lockout_and_audited(users, participant_a, vitals, study):
    investigator = users[Role.INVESTIGATOR]
    request = RequestFactory(REMOTE_ADDR="198.51.100.7").post("/review/")
    for _ in range(study.protocol.max_failed_logins):
        with pytest.raises(DomainError) as info:
            _sign(users, participant_a, password="wrong-password", request=request)
        assert info.value.code == ErrorCode.REAUTH_FAILED
    assert not Signature.objects.exists()
    assert Event.objects.filter(kind=EventKind.REAUTH_FAILED, actor=investigator).count() == study.protocol.max_failed_logins
    assert AccessAttempt.objects.get(username=investigator.username).failures_since_start == study.protocol.max_failed_logins
    # Locked out: the right password does not sign either.
    with pytest.raises(DomainError):
        _sign(users, participant_a, request=request)
    assert not Signature.objects.exists()


def test_only_the_sites_investigators_sign(users, make_user, site_b, participant_a, vitals):
    for user in (users[Role.COORDINATOR], users[Role.MONITOR], users[Role.DATA_MANAGER], make_user(Role.INVESTIGATOR, sites=[site_b])):
        state = selectors.casebook_states([participant_a.pk])[participant_a.pk]
        with pytest.raises(DomainError) as info:
            signature_create(actor=user, participant=participant_a, meaning="approve", password=PASSWORD, expected=state.manifest_hash)
        assert info.value.code in (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
    assert not Signature.objects.exists()


def test_a_casebook_with_drafts_is_not_signed(users, coordinator, participant_a, vitals):
    form_create(actor=coordinator, spec=VITALS, participant=participant_a, data={"measured_on": dt.date(2026, 11, 21), "temperature": "37.0", "heart_rate": 70})
    with pytest.raises(DomainError) as info:
        _sign(users, participant_a)
    assert info.value.code == ReviewError.DRAFTS_PRESENT and not Signature.objects.exists()
