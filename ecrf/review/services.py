"""Freeze, lock and unlock; source data verification; electronic signatures.

- Scopes (``ecrf.crf.models.LockScope``) at form, participant, site or study level: data managers
  only; each set and each release is a history row of the scope (who, when, reason) and an event
  of the event log. Locking the study first runs the study-lock gate (``ecrf.review.gate``): with
  blockers it is refused and nothing is written. The write guard (``ecrf.crf.guard``) does the
  refusing of writes; nothing here weakens it.
- A freeze stops data changes, not review: verification and signing go on under a freeze. A lock
  is final until an audited unlock: nothing about the locked data changes, its verifications and
  signatures included (they are part of the locked export package).
- Verifications and signatures are bound to the exact versions and SHA-256 of what they cover
  (``ecrf.review.selectors``); neither is ever updated: a later change makes them stale or void.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ecrf.accounts.roles import require_role
from ecrf.accounts.services import reauthenticate, require_reason
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.crf.models import CRF, EntryStatus, LockScope, Participant
from ecrf.crf.registry import FormSpec
from ecrf.crf.selectors import participant_get
from ecrf.review import fingerprint, gate, selectors
from ecrf.review.errors import ReviewError
from ecrf.review.models import Signature, SignatureLevel, SignatureMeaning, Verification, meaning_text
from ecrf.study.models import Site

_SET_EVENT = {"freeze": EventKind.FREEZE, "lock": EventKind.LOCK}
_RELEASE_EVENT = {"freeze": EventKind.UNFREEZE, "lock": EventKind.UNLOCK}


# --- freeze and lock ----------------------------------------------------------------------------

def _describe(scope: LockScope) -> str:
    if scope.level == "study":
        return "the study"
    if scope.level == "site":
        return f"site {scope.site.code}"
    if scope.level == "participant":
        return f"participant {scope.participant.label}"
    return f"form {scope.form_type.model} #{scope.form_id}"


def _scope_set(*, actor: Any, kind: str, level: str, reason: str, site: Site | None = None,
               participant: Participant | None = None, form: CRF | None = None,
               request: HttpRequest | None = None) -> LockScope:
    require_role(actor, selectors.LOCK_ROLES, "freeze or lock data (data managers only)")
    reason = require_reason(reason, f"this {'lock' if kind == 'lock' else 'freeze'}")
    target: dict[str, Any] = {}
    if level == "study":
        pass
    elif level == "site":
        if site is None:
            raise invalid("Name the site to freeze or lock.", site="Required.")
        target = {"site": site}
    elif level == "participant":
        if participant is None:
            raise invalid("Name the participant to freeze or lock.", participant="Required.")
        target = {"participant": participant}
    elif level == "form":
        if form is None:
            raise invalid("Name the form to freeze or lock.", form="Required.")
        target = {"participant": form.participant, "form_type": ContentType.objects.get_for_model(form), "form_id": form.pk}
    else:
        raise invalid("The level is one of form, participant, site or study.", level="Unknown level.")
    if level in ("participant", "form"):
        # Lock order (ecrf.crf.services): the participant row first, so a form write of this
        # participant that is under way finishes before the scope exists, and none starts after.
        Participant.objects.select_for_update().get(pk=target["participant"].pk)
    if kind == "lock" and level == "study":
        found = gate.blockers()
        if found:
            raise gate.GateBlocked(found)
    exists = LockScope.objects.filter(level=level, kind=kind, released_at__isnull=True,
                                      **{k: v for k, v in target.items() if not (level == "form" and k == "participant")})
    if exists.exists():
        raise DomainError(ReviewError.ALREADY_SCOPED, f"This is already {'locked' if kind == 'lock' else 'frozen'} "
                          f"(scope #{exists.first().pk}); nothing was changed.")
    scope = LockScope(level=level, kind=kind, reason=reason, set_by=actor, set_at=timezone.now(), **target)
    scope._history_user = actor
    scope._change_reason = reason
    scope.save()
    event_record(kind=_SET_EVENT[kind], actor=actor, request=request, site=scope.site or (scope.participant.site if scope.participant_id else None),
                 obj=scope, reason=reason, level=level, scope=scope.pk, target=_describe(scope))
    return scope


@transaction.atomic
def scope_freeze(*, actor: Any, level: str, reason: str, site: Site | None = None, participant: Participant | None = None,
                 form: CRF | None = None, request: HttpRequest | None = None) -> LockScope:
    """Freeze data: no edit through any path; queries, verification and signing go on."""
    return _scope_set(actor=actor, kind="freeze", level=level, reason=reason, site=site, participant=participant,
                      form=form, request=request)


@transaction.atomic
def scope_lock(*, actor: Any, level: str, reason: str, site: Site | None = None, participant: Participant | None = None,
               form: CRF | None = None, request: HttpRequest | None = None) -> LockScope:
    """Lock data: nothing about it changes until an audited unlock. The study lock runs the gate
    first and is the event the locked export package starts from (``selectors.study_lock_current``)."""
    return _scope_set(actor=actor, kind="lock", level=level, reason=reason, site=site, participant=participant,
                      form=form, request=request)


@transaction.atomic
def scope_unlock(*, actor: Any, scope: LockScope, reason: str, request: HttpRequest | None = None) -> LockScope:
    """Release a freeze or a lock, with a reason: a history row of the scope and an event."""
    require_role(actor, selectors.LOCK_ROLES, "unfreeze or unlock data (data managers only)")
    reason = require_reason(reason, "the unlock")
    current = LockScope.objects.select_for_update().filter(pk=getattr(scope, "pk", None)).first()
    if current is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such freeze or lock.")
    if current.released_at is not None:
        raise DomainError(ReviewError.ALREADY_RELEASED, f"This {current.get_kind_display().lower()} scope was already released "
                          f"on {current.released_at:%Y-%m-%d %H:%M} UTC; nothing was changed.")
    current.released_at = timezone.now()
    current.released_by = actor
    current.release_reason = reason
    current._history_user = actor
    current._change_reason = f"Released: {reason}"
    current.save()
    event_record(kind=_RELEASE_EVENT[current.kind], actor=actor, request=request,
                 site=current.site or (current.participant.site if current.participant_id else None),
                 obj=current, reason=reason, level=current.level, scope=current.pk, target=_describe(current))
    return current


# --- source data verification -------------------------------------------------------------------

def _refuse_under_lock(participant: Participant, form: CRF | None, what: str) -> None:
    scope = selectors.lock_covering(participant, form)
    if scope is not None:
        raise DomainError(ErrorCode.LOCKED, f"This data is locked (scope #{scope.pk}); {what} is not possible until a data "
                          "manager unlocks it with a reason.")


@transaction.atomic
def form_verify(*, actor: Any, spec: FormSpec, form: CRF, version: int | None, fields: list[str] | None = None) -> Verification:
    """Record the source data verification of a whole form (``fields`` empty) or of some fields,
    bound to the version the verifier saw and the SHA-256 of those values."""
    require_role(actor, selectors.VERIFY_ROLES, "verify source data (monitors and data managers)")
    participant = participant_get(actor, form.participant_id, selectors.VERIFY_ROLES)
    Participant.objects.select_for_update().get(pk=participant.pk)  # lock order: the participant first
    current = spec.model.objects.get(pk=form.pk)
    if version is None:
        raise invalid("Send the version you verified, so that a change made meanwhile is detected.", expected_version="Required.")
    if int(version) != current.version:
        raise DomainError(ErrorCode.STALE_VERSION, f"This {spec.label} form changed since you loaded it (version "
                          f"{current.version}, you saw {version}); reload it and verify it again.")
    if current.status not in (EntryStatus.SUBMITTED, EntryStatus.NOT_DONE):
        raise DomainError(ReviewError.NOT_REVIEWABLE, f"This {spec.label} form is {current.get_status_display().lower()}: "
                          "only submitted forms (or forms marked not done) are verified.")
    names = list(dict.fromkeys(fields or []))
    unknown = sorted(set(names) - set(spec.fields))
    if unknown:
        raise invalid("Verify fields of this form only.", fields=[f"Not a field of {spec.label}: {n}" for n in unknown])
    _refuse_under_lock(participant, current, "verification")
    row = Verification(participant=participant, form_type=ContentType.objects.get_for_model(current), form_id=current.pk,
                       form_key=spec.key, fields=names, version=current.version,
                       values_hash=selectors.form_hash(spec, current, names or None), verified_by=actor)
    row._history_user = actor
    row._change_reason = "Source data verified" + (f": {', '.join(names)}" if names else "")
    row.save()
    return row


# --- electronic signatures ----------------------------------------------------------------------

def _meaning(meaning: str, level: str) -> tuple[str, str]:
    if meaning not in SignatureMeaning.values:
        raise invalid("Choose what your signature means.", meaning=f"One of: {', '.join(SignatureMeaning.values)}.")
    return meaning, meaning_text(meaning, level)


def signature_create(*, actor: Any, participant: Participant, meaning: str, password: str,
                     form: CRF | None = None, expected: str | int | None = None,
                     request: HttpRequest | None = None) -> Signature:
    """An investigator signs a participant's casebook (``form`` None) or one form, re-entering
    the password (21 CFR 11.200(a)(1): both components at the first signing of a session; a
    wrong password counts toward the account lockout). ``expected`` is what the signer saw: the
    casebook's manifest hash, or the form's version; anything else changed -> 409, nothing signed."""
    require_role(actor, selectors.SIGN_ROLES, "sign (investigators only)")
    participant = participant_get(actor, getattr(participant, "pk", participant), selectors.SIGN_ROLES)
    level = SignatureLevel.CASEBOOK if form is None else SignatureLevel.FORM
    meaning, text = _meaning(meaning, level)
    if expected in (None, ""):
        raise invalid("Send what you reviewed (the casebook's fingerprint or the form's version), so that a change made "
                      "meanwhile is detected.", expected="Required.")
    # Outside the transaction: a failed re-authentication stays audited (and counted).
    reauthenticate(user=actor, password=password, request=request, purpose="electronic signature")
    with transaction.atomic():
        locked = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        if form is None:
            state = selectors.casebook_states([locked.pk])[locked.pk]
            if state.drafts:
                names = ", ".join(f"{s.label} #{f.pk}" for s, f in state.drafts)
                raise DomainError(ReviewError.DRAFTS_PRESENT, f"The casebook holds drafts ({names}): submit or retract "
                                  "them before signing.")
            if not state.records:
                raise DomainError(ReviewError.NOT_REVIEWABLE, "This casebook holds no submitted form to sign.")
            records = state.records
            if str(expected) != fingerprint.manifest_hash(records):
                raise DomainError(ErrorCode.STALE_VERSION, "The casebook changed since you loaded it; reload the signing "
                                  "page, review the changes and sign again.")
            target: dict[str, Any] = {}
        else:
            spec = selectors.spec_of(form)
            current = spec.model.objects.get(pk=form.pk)
            if current.participant_id != locked.pk:
                raise invalid("This form belongs to another participant.", form="Not this participant's form.")
            if str(expected) != str(current.version):
                raise DomainError(ErrorCode.STALE_VERSION, f"This {spec.label} form changed since you loaded it (version "
                                  f"{current.version}); reload it and sign again.")
            if current.status not in (EntryStatus.SUBMITTED, EntryStatus.NOT_DONE):
                raise DomainError(ReviewError.NOT_REVIEWABLE, f"This {spec.label} form is "
                                  f"{current.get_status_display().lower()}: only submitted forms are signed.")
            records = [selectors.form_record(spec, current)]
            target = {"form_type": ContentType.objects.get_for_model(current), "form_id": current.pk}
            form = current
        _refuse_under_lock(locked, form, "signing")
        sig = Signature(participant=locked, level=level, signer=actor, signer_name=actor.get_full_name() or actor.get_username(),
                        signed_at=timezone.now(), meaning=meaning, meaning_text=text, records=records,
                        manifest_hash=fingerprint.manifest_hash(records), **target)
        sig._history_user = actor
        sig._change_reason = f"Signed: {text}"
        sig.save()
        event_record(kind=EventKind.SIGNATURE, actor=actor, request=request, site=locked.site, obj=sig, reason=text,
                     level=level, participant=locked.pk, records=len(records), manifest_hash=sig.manifest_hash)
    return sig
