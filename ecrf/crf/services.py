"""Every write to a CRF goes through these functions (UI, API, admin, imports, tasks).

Each one: checks the actor's authority and site scope, locks the row, compares the version
the writer read (409 if stale), passes the write guard (409 under a freeze or lock), demands a
reason once the form has been submitted, validates and derives on the server, and saves with
the user and reason in the hash-chained history, all in one transaction.

Lock order. Every write path of a participant's data takes its row locks in one order, so that
two transactions never wait for each other in a cycle (a deadlock on PostgreSQL):

1. the participant row (``SELECT ... FOR UPDATE`` on ``crf_participant``), before anything else:
   ``form_create``, ``form_update`` / ``form_submit``, ``form_retract``, ``form_mark_not_done``
   (``_lock_participant``); randomization and emergency unblinding lock it first in their own
   transaction, then call ``participant_mark_randomized`` / ``participant_flag_unblinded``, which
   lock it again (a no-op); the SOFA endpoint derivation, single and bulk (in pk order);
2. the form row being written (``_locked``, ``FOR UPDATE OF`` that row only: a join lock would
   also lock the participant row from the form's side);
3. the rows the write's listeners change (``ecrf.crf.listeners``), each kind in a fixed order:
   the participant's later SOFA days in (day, pk) order (re-scoring), the screening form
   (re-assessment after a consent or central-lab write), the participant's adverse events in pk
   order (re-check against a Death form), an AE's SAE reports by sequence and clocks by pk, the
   SOFA endpoint row (at randomization; otherwise re-derived by a task after the commit);
   consent decisions outside the form services (``ecrf.screening.services``) lock the
   participant, then the consent, then re-assess the screening;
4. randomization and emergency unblinding only, after the participant: the site row (locked
   with the participant by a join), then the stratum and the site's subject counter;
5. last, taken by each history insert and held to the commit: the audit chain head of that
   history table (``ecrf.audit.models.append_to_chain``).

Because the participant row comes first, concurrent writes of one participant's forms (two SOFA
days, an administration, a death, an AE) run one after the other, and the locks of level 3 are
taken by one of them at a time. A path that locks rows of level 2 or 3 without the participant
must never take the participant row after them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ecrf.accounts.roles import SITE_SCOPED_ROLES, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.crf.errors import CrfError
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.core.validation import full_clean_or_400
from ecrf.crf.guard import assert_writable
from ecrf.crf.listeners import PARTICIPANT_CREATED, PARTICIPANT_RANDOMIZED, Write, WriteAction, written
from ecrf.crf.models import CRF, EntryStatus, Participant
from ecrf.crf.registry import FormSpec
from ecrf.crf.selectors import participant_get
from ecrf.accounts.roles import SITE_ENTRY_ROLES

if TYPE_CHECKING:
    from ecrf.accounts.models import User

_META_FIELDS = ("status", "status_reason")


def _authorize(actor: User, spec: FormSpec, participant: Participant, *, correction: bool = False) -> None:
    """404 if the participant is outside the actor's scope; 403 if visible but not writable."""
    participant_get(actor, participant.pk, spec.read_roles | spec.write_roles | spec.correction_roles)
    roles = user_roles(actor)
    allowed = spec.correction_roles if correction else spec.write_roles
    held = roles & allowed
    if not held:
        raise DomainError(ErrorCode.FORBIDDEN, f"Your role may not change {spec.label} forms.")
    if held <= SITE_SCOPED_ROLES and participant.site_id not in member_site_ids(actor):
        raise DomainError(ErrorCode.FORBIDDEN, f"You may change {spec.label} forms only at your own site.")


def coerce_data(spec: FormSpec, data: dict[str, Any]) -> dict[str, Any]:
    """Parse raw values into the fields' Python types; unknown fields are refused."""
    unknown = sorted(set(data) - set(spec.fields))
    if unknown:
        raise DomainError(ErrorCode.UNKNOWN_FIELD, f"Unknown field {', '.join(unknown)} for {spec.label}.",
                          fields={name: "Unknown field; it is not part of this form." for name in unknown})
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in data.items():
        field = spec.model._meta.get_field(name)
        try:
            values[name] = field.to_python(raw) if not isinstance(field, models.ForeignKey) else raw
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise DomainError(ErrorCode.INVALID, "Some values could not be read; see the field errors.", fields=errors)
    return values


def _validate(spec: FormSpec, form: CRF) -> None:
    if spec.derive is not None:
        spec.derive(form)
    errors = spec.validate(form) if spec.validate is not None else {}
    if errors:
        name, message = next(iter(errors.items()))
        raise DomainError(ErrorCode.INVALID, f"{name}: {message}", fields=errors)
    full_clean_or_400(form, exclude=["participant", "created_by", "updated_by"])
    if spec.one_per is not None:
        clash = spec.model.objects.filter(participant_id=form.participant_id).exclude(status=EntryStatus.RETRACTED)
        clash = clash.filter(**{name: getattr(form, name) for name in spec.one_per})
        if form.pk:
            clash = clash.exclude(pk=form.pk)
        if clash.exists():
            what = ", ".join(f"{n} {getattr(form, n)}" for n in spec.one_per) or "this participant"
            raise DomainError(ErrorCode.INVALID, f"There is already a {spec.label} form for {what}; edit that one instead.",
                              fields={(spec.one_per[0] if spec.one_per else "participant"): "Already recorded."})


def _save(spec: FormSpec, form: CRF, *, actor: User | None, reason: str, action: WriteAction) -> CRF:
    now = timezone.now()
    form.updated_at = now
    form.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    form._history_user = form.updated_by
    form._change_reason = reason
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError as exc:
        raise DomainError(ErrorCode.INVALID, f"This {spec.label} entry conflicts with one already recorded.") from exc
    # The consequences of this write (re-derivations, system deviations, safety follow-through,
    # edit checks) run here, in this transaction: see ecrf.crf.listeners.
    written(Write(key=spec.key, instance=form, actor=actor, action=action))
    return form


def _lock_participant(participant_id: int) -> Participant:
    """Level 1 of the lock order (module docstring): the participant row, before any form row."""
    return Participant.objects.select_for_update().get(pk=participant_id)


def _locked(spec: FormSpec, form: CRF, version: int | None) -> CRF:
    """Lock the participant row, then the form row (the lock order), and check the version."""
    participant = _lock_participant(form.participant_id)
    current = spec.model.objects.select_for_update(of=("self",)).get(pk=form.pk)
    current.participant = participant
    if version is None:
        raise invalid("Send the version you read, so that concurrent changes are detected.", version="Required.")
    if int(version) != current.version:
        raise DomainError(ErrorCode.STALE_VERSION,
                          f"This {spec.label} form was changed by someone else (version {current.version}, you sent {version}); reload it and apply your change again.")
    if current.status == EntryStatus.RETRACTED:
        raise DomainError(CrfError.RETRACTED, f"This {spec.label} entry was retracted; it cannot change.")
    return current


def _reason_if_submitted(form: CRF, reason: str | None) -> str:
    reason = (reason or "").strip()
    if form.ever_submitted and not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, "This form has been submitted: give a reason for the change.",
                          fields={"reason": "A reason is required for changes after submission."})
    return reason


@transaction.atomic
def form_create(*, actor: User | None, spec: FormSpec, participant: Participant, data: dict[str, Any],
                submit: bool = False) -> CRF:
    _authorize(actor, spec, participant)
    participant = _lock_participant(participant.pk)
    assert_writable(participant=participant)
    if spec.requires_randomized and not participant.is_randomized:
        raise DomainError(CrfError.NOT_RANDOMIZED, f"{spec.label} forms are recorded only after randomization.")
    values = coerce_data(spec, data)
    form = spec.model(participant=participant, **values)
    form.created_by = actor if getattr(actor, "is_authenticated", False) else None
    if submit:
        form.status = EntryStatus.SUBMITTED
        form.submitted_at = timezone.now()
    _validate(spec, form)
    return _save(spec, form, actor=actor, reason="Created and submitted" if submit else "Created",
                 action=WriteAction.SUBMITTED if submit else WriteAction.CREATED)


@transaction.atomic
def form_update(*, actor: User, spec: FormSpec, form: CRF, data: dict[str, Any], version: int | None,
                reason: str | None = None, submit: bool = False, correction: bool = False) -> CRF:
    _authorize(actor, spec, form.participant, correction=correction)
    current = _locked(spec, form, version)
    assert_writable(participant=current.participant, form=current)
    values = coerce_data(spec, data)
    reason = _reason_if_submitted(current, reason)
    changed = {k: v for k, v in values.items() if getattr(current, k) != v}
    becomes_submitted = submit and current.status != EntryStatus.SUBMITTED
    if not changed and not becomes_submitted:
        return current
    for name, value in changed.items():
        setattr(current, name, value)
    if becomes_submitted:
        current.status = EntryStatus.SUBMITTED
        current.status_reason = ""
        current.submitted_at = current.submitted_at or timezone.now()
    _validate(spec, current)
    current.version += 1
    return _save(spec, current, actor=actor, reason=reason or ("Submitted" if becomes_submitted else "Draft updated"),
                 action=WriteAction.SUBMITTED if becomes_submitted else WriteAction.UPDATED)


@transaction.atomic
def form_submit(*, actor: User, spec: FormSpec, form: CRF, version: int | None, reason: str | None = None) -> CRF:
    return form_update(actor=actor, spec=spec, form=form, data={}, version=version, reason=reason, submit=True)


def _set_status(*, actor: User, spec: FormSpec, form: CRF, version: int | None, reason: str | None,
                status: EntryStatus, verb: str) -> CRF:
    _authorize(actor, spec, form.participant)
    current = _locked(spec, form, version)
    assert_writable(participant=current.participant, form=current)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, f"Give a reason to {verb} this form.", fields={"reason": "A reason is required."})
    if current.status == status:
        raise DomainError(CrfError.STATUS_UNCHANGED, f"This {spec.label} form is already {status.label.lower()}.")
    current.status = status
    current.status_reason = reason
    current.version += 1
    action = WriteAction.RETRACTED if status == EntryStatus.RETRACTED else WriteAction.NOT_DONE
    return _save(spec, current, actor=actor, reason=reason, action=action)


@transaction.atomic
def form_retract(*, actor: User, spec: FormSpec, form: CRF, version: int | None, reason: str | None) -> CRF:
    """An entry made in error is retracted with a reason, never deleted (invariant 1)."""
    return _set_status(actor=actor, spec=spec, form=form, version=version, reason=reason,
                       status=EntryStatus.RETRACTED, verb="retract")


@transaction.atomic
def form_mark_not_done(*, actor: User, spec: FormSpec, form: CRF, version: int | None, reason: str | None) -> CRF:
    return _set_status(actor=actor, spec=spec, form=form, version=version, reason=reason,
                       status=EntryStatus.NOT_DONE, verb="mark as not done")


@transaction.atomic
def participant_create(*, actor: User | None, site: Any, screening_number: str, reason: str = "Screened") -> Participant:
    """A newly screened patient at ``site``; the screening number is unique per site."""
    roles = user_roles(actor)
    if not roles & SITE_ENTRY_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN, "Only site staff may screen patients.")
    if site.pk not in member_site_ids(actor):
        raise DomainError(ErrorCode.FORBIDDEN, "You may screen patients only at your own site.")
    assert_writable(site_id=site.pk)
    screening_number = (screening_number or "").strip()
    if not screening_number:
        raise invalid("Give the screening number.", screening_number="Required.")
    if Participant.objects.filter(site=site, screening_number=screening_number).exists():
        raise invalid(f"Screening number {screening_number} is already used at site {site.code}.",
                      screening_number="Already used at this site.")
    participant = Participant(site=site, screening_number=screening_number,
                              created_by=actor if getattr(actor, "is_authenticated", False) else None)
    full_clean_or_400(participant, exclude=["created_by"])
    participant._history_user = participant.created_by
    participant._change_reason = reason
    participant.save()
    written(Write(key=PARTICIPANT_CREATED, instance=participant, actor=participant.created_by,
                  action=WriteAction.CREATED))
    return participant


@transaction.atomic
def participant_mark_randomized(*, participant: Participant, subject_id: str, randomized_at: Any, actor: User | None) -> Participant:
    """Called by the randomization service inside its transaction, after its own checks:
    the blinded side learns only the subject ID and the time (ARCHITECTURE.md "Blinding")."""
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.is_randomized:
        raise DomainError(CrfError.ALREADY_RANDOMIZED, "This participant is already randomized.")
    assert_writable(participant=locked)
    locked.subject_id = subject_id
    locked.randomized_at = randomized_at
    locked.version += 1
    locked._history_user = actor if getattr(actor, "is_authenticated", False) else None
    locked._change_reason = "Randomized"
    locked.save()
    written(Write(key=PARTICIPANT_RANDOMIZED, instance=locked, actor=locked._history_user,
                  action=WriteAction.RANDOMIZED))
    return locked


@transaction.atomic
def participant_flag_unblinded(*, participant: Participant, actor: User, reason: str) -> Participant:
    """Set the visible "emergency unblinded" flag (never the arm) inside the unblinding service."""
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if not locked.emergency_unblinded:
        locked.emergency_unblinded = True
        locked.version += 1
        locked._history_user = actor
        locked._change_reason = reason
        locked.save()
    return locked
