"""What the review app shows on other apps' pages: the casebook cells' verified / signed overlays
(and their stale / void forms), the verification notes beside a form's fields, and the form's
own signature (or the investigator's "Sign this form") at the top of its page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.roles import user_roles
from ecrf.crf.annotations import ALL_FIELDS, FieldNote, register_field_notes
from ecrf.crf.models import EntryStatus
from ecrf.crf.selectors import participants_for
from ecrf.review import selectors
from ecrf.review.models import Signature, SignatureLevel, Verification
from ecrf.schedule.selectors import register_state_provider

# Overlay codes beside the schedule's own states (ecrf.schedule.engine.STATE_LABELS).
VERIFIED, VERIFY_STALE, SIGNED, SIGN_VOID = "verified", "verify_stale", "signed", "sign_void"


@register_state_provider
def review_overlays(participants: list[Any], entries: list[Any]) -> dict[tuple[int, int], set[str]]:
    """Verified / stale and signed / void on the entries of these participants, at a fixed
    number of queries whatever their number."""
    pids = [p.pk for p in participants]
    out: dict[tuple[int, int], set[str]] = {}
    keyed = {(ContentType.objects.get_for_model(type(e)).pk, e.pk): e for e in entries}
    rows: dict[tuple[int, int], list[Verification]] = {}
    for row in Verification.objects.filter(participant_id__in=pids).order_by("pk"):
        rows.setdefault((row.form_type_id, row.form_id), []).append(row)
    for key, found in rows.items():
        entry = keyed.get(key)
        if entry is None or entry.status == EntryStatus.RETRACTED:
            continue
        review = selectors.review_of(selectors.spec_of(entry), entry, found)
        if review.state == selectors.VState.VERIFIED:
            out.setdefault(key, set()).add(VERIFIED)
        elif review.state == selectors.VState.STALE:
            out.setdefault(key, set()).add(VERIFY_STALE)
    sigs = list(Signature.objects.filter(participant_id__in=pids).order_by("pk"))
    signed_casebooks = sorted({s.participant_id for s in sigs if s.level == SignatureLevel.CASEBOOK})
    if signed_casebooks:
        states = selectors.casebook_states(signed_casebooks)
        for key, entry in keyed.items():
            state = states.get(entry.participant_id)
            if state is not None and entry.status != EntryStatus.DRAFT:
                out.setdefault(key, set()).add(SIGN_VOID if state.void else SIGNED)
    for sig in (s for s in sigs if s.level == SignatureLevel.FORM):
        key = (sig.form_type_id, sig.form_id)
        entry = keyed.get(key)
        if entry is None or SIGNED in out.get(key, set()):
            continue
        void = selectors.signature_void(sig, [selectors.form_record(selectors.spec_of(entry), entry)])
        out.setdefault(key, set()).add(SIGN_VOID if void else SIGNED)
        out[key].discard(SIGNED if void else SIGN_VOID)
    return out


@register_field_notes
def verification_notes(user: Any, form: Any) -> dict[str, list[FieldNote]]:
    if not user_roles(user) & selectors.REVIEW_READ_ROLES:
        return {}
    ct = ContentType.objects.get_for_model(type(form))
    rows = list(Verification.objects.filter(form_type=ct, form_id=form.pk).select_related("verified_by").order_by("pk"))
    if not rows:
        return {}
    review = selectors.review_of(selectors.spec_of(form), form, rows)
    latest = rows[-1]
    url = reverse("review:participant-sdv", args=[form.participant_id]) if user_roles(user) & selectors.VERIFY_ROLES else ""
    when = timezone.localtime(latest.verified_at).strftime("%Y-%m-%d %H:%M %Z")
    notes: dict[str, list[FieldNote]] = {}
    if review.state == selectors.VState.VERIFIED:
        notes[ALL_FIELDS] = [FieldNote("verification", f"Source data verified by {latest.verified_by.get_username()} on {when} "
                                       f"(version {latest.version}).", url, "info")]
    elif review.state == selectors.VState.STALE:
        notes[ALL_FIELDS] = [FieldNote("verification", f"Verification stale: verified at version {latest.version}, changed "
                                       f"since (now version {form.version}); verify it again.", url, "warning")]
    for name, state in review.fields.items():
        if state == selectors.VState.STALE:
            notes.setdefault(name, []).append(FieldNote("verification", "Changed since verified", url, "warning"))
        elif review.state != selectors.VState.VERIFIED:
            notes.setdefault(name, []).append(FieldNote("verification", "Verified", url, "info"))
    return notes


@register_field_notes
def signature_notes(user: Any, form: Any) -> dict[str, list[FieldNote]]:
    """The form's own signature on its page: who signed, when (UTC and the viewer's zone) and what
    it means, or that a change voided it; for the site's investigators, the way to sign it."""
    roles = user_roles(user)
    if not roles & selectors.REVIEW_READ_ROLES:
        return {}
    spec = selectors.spec_of(form)
    signatures = selectors.form_signatures(spec, form)
    signable = form.status in (EntryStatus.SUBMITTED, EntryStatus.NOT_DONE)
    url = ""
    if (signable and roles & selectors.SIGN_ROLES
            and participants_for(user, selectors.SIGN_ROLES).filter(pk=form.participant_id).exists()):
        url = f"{reverse('review:sign', args=[form.participant_id])}?{urlencode({'form_slug': spec.slug, 'form_id': form.pk})}"
    notes: list[FieldNote] = []
    if signatures:
        sig, void = signatures[-1]
        utc = sig.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        local = timezone.localtime(sig.signed_at).strftime("%Y-%m-%d %H:%M %Z")
        if void:
            notes.append(FieldNote("signature", f"Signature void: signed by {sig.signer_name} on {utc} ({local}) at version "
                                   f"{sig.records[0]['version']}, changed since (now version {form.version}); "
                                   "this form needs signing again." + (" Sign it again." if url else ""), url, "warning"))
        else:
            notes.append(FieldNote("signature", f"Signed by {sig.signer_name} on {utc} ({local}): “{sig.meaning_text}”.",
                                   "", "info"))
    elif url:
        notes.append(FieldNote("signature", "Sign this form", url, "info"))
    return {ALL_FIELDS: notes} if notes else {}
