"""Who may see one participant's arm, and the three audited unblinding acts.

The contract other apps use (ARCHITECTURE.md "Roles"):

- ``assignment_visible_to(user, participant) -> "active" | "placebo" | None``: the arm for the
  statistician, the site's pharmacists, the user who emergency-unblinded that participant, and
  pharmacovigilance after ``reveal_for_susar``; None for everybody else (and before randomization).
- ``reveal_for_susar(*, actor, participant, reason, password, request=None) -> arm``: the
  pharmacovigilance role unblinds one potential SUSAR (re-authentication, audited event; the
  participant carries no flag, nobody is notified; the arm stays visible to that user).
- ``participant_emergency_unblind(...)``: an investigator of the participant's site, in a
  medical emergency; the participant is flagged (the flag, not the arm, is visible to blinded
  users); the data managers and the sponsor's safety contact are notified without the arm.
- ``study_unblind(...)``: the statistician, once the study-scope lock is set.

A refused request changes nothing (a failed re-authentication is itself audited, as for logins).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.conf import settings
from django.core.mail import send_mail

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role, require_role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.accounts.services import reauthenticate, require_reason
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.randomization.errors import RandomizationError
from ecrf.core.errors import DomainError, not_found
from ecrf.crf.models import LockScope, Participant
from ecrf.crf.selectors import participant_get
from ecrf.crf.services import participant_flag_unblinded
from ecrf.notifications.services import notify
from ecrf.randomization.models import Assignment, Unblinding, UnblindingKind
from ecrf.study.services import current_study


def _arm(participant_id: int) -> str | None:
    return Assignment.objects.filter(participant_id=participant_id).values_list("slot__arm", flat=True).first()


def assignment_visible_to(user: Any, participant: Participant) -> str | None:
    roles = user_roles(user)
    if not roles:
        return None
    if Role.STATISTICIAN in roles:
        return _arm(participant.pk)
    if Role.PHARMACIST in roles and participant.site_id in member_site_ids(user):
        return _arm(participant.pk)
    if Unblinding.objects.filter(user=user, participant_id=participant.pk,
                                 kind__in=(UnblindingKind.EMERGENCY, UnblindingKind.SUSAR)).exists():
        return _arm(participant.pk)
    return None


def _randomized(participant: Participant) -> str:
    arm = _arm(participant.pk)
    if arm is None:
        raise DomainError(RandomizationError.NOT_RANDOMIZED, "This participant is not randomized; there is nothing to unblind.")
    return arm


def participant_emergency_unblind(*, actor: User, participant: Participant, reason: str, password: str,
                                  request: HttpRequest | None = None) -> str:
    """An investigator of the participant's site, in a medical emergency: that user alone sees the arm."""
    require_role(actor, {Role.INVESTIGATOR}, "unblind a participant (investigators only, in a medical emergency)")
    participant = participant_get(actor, participant.pk, {Role.INVESTIGATOR})
    _randomized(participant)
    reason = require_reason(reason, "the emergency unblinding")
    # Outside the transaction: a failed re-authentication stays audited.
    reauthenticate(user=actor, password=password, request=request, purpose="emergency unblinding")
    with transaction.atomic():
        locked = Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        arm = _randomized(locked)
        record = Unblinding(kind=UnblindingKind.EMERGENCY, participant=locked, user=actor, reason=reason)
        record._history_user = actor
        record._change_reason = "Emergency unblinding"
        record.save()
        event_record(kind=EventKind.UNBLINDING, actor=actor, request=request, site=locked.site, obj=locked,
                     reason=reason, scope="emergency", unblinding=record.pk)
        participant_flag_unblinded(participant=locked, actor=actor, reason=f"Emergency unblinding: {reason}")
        label = locked.subject_id or locked.screening_number
        subject = f"Emergency unblinding of {label} (site {locked.site.code})"
        body = (f"{actor.get_username()} unblinded participant {label} at site {locked.site.code} in a medical "
                f"emergency at {timezone.now():%Y-%m-%d %H:%M} UTC. Reason: {reason}. The participant stays in the "
                f"trial and is flagged; the arm is known to that investigator only.")
        study = current_study()
        contact = study.safety_contact_email if study else ""
        recipients = list(User.objects.filter(groups__name=Role.DATA_MANAGER, is_active=True).distinct())
        if contact:
            recipients += list(User.objects.filter(email__iexact=contact, is_active=True))
        notify(recipients=recipients, kind="emergency_unblinding", source=f"randomization.unblinding:{record.pk}",
               subject=subject, body=body, link=reverse("crf:participant-detail", args=[locked.pk]))
        if contact:
            # deferred import: ecrf.randomization.tasks imports this module (its task calls unblinding_notify_safety_contact).
            from ecrf.randomization.tasks import notify_safety_contact

            transaction.on_commit(lambda: notify_safety_contact.delay(record.pk))
    return arm


def unblinding_notify_safety_contact(*, unblinding_id: int) -> bool:
    """E-mail the sponsor's safety contact about an emergency unblinding, once (idempotent)."""
    with transaction.atomic():
        record = (Unblinding.objects.select_for_update(of=("self",)).select_related("participant", "participant__site", "user")
                  .filter(pk=unblinding_id, kind=UnblindingKind.EMERGENCY).first())
        if record is None or record.safety_contact_notified_at is not None:
            return False
        study = current_study()
        if not study or not study.safety_contact_email:
            return False
        p = record.participant
        label = p.subject_id or p.screening_number
        send_mail(f"Emergency unblinding of {label} (site {p.site.code})",
                  f"{record.user.get_username()} unblinded participant {label} at site {p.site.code} in a medical "
                  f"emergency at {record.at:%Y-%m-%d %H:%M} UTC. Reason: {record.reason}. The arm is not part of this "
                  f"message.", settings.DEFAULT_FROM_EMAIL, [study.safety_contact_email])
        record.safety_contact_notified_at = timezone.now()
        record._change_reason = "Safety contact notified"
        record.save(update_fields=["safety_contact_notified_at"])
    return True


def reveal_for_susar(*, actor: User, participant: Participant, reason: str, password: str,
                     request: HttpRequest | None = None) -> str:
    """Pharmacovigilance unblinds one potential SUSAR: returns its arm, audited; visible to that
    user thereafter. No flag and no notification: the existence of the case stays with them."""
    require_role(actor, {Role.PHARMACOVIGILANCE}, "unblind a potential SUSAR")
    participant = Participant.objects.select_related("site").filter(pk=getattr(participant, "pk", None)).first()
    if participant is None:
        raise not_found("participant")
    _randomized(participant)
    reason = require_reason(reason, "unblinding this potential SUSAR")
    reauthenticate(user=actor, password=password, request=request, purpose="SUSAR unblinding")
    with transaction.atomic():
        arm = _randomized(participant)
        record = Unblinding(kind=UnblindingKind.SUSAR, participant=participant, user=actor, reason=reason)
        record._history_user = actor
        record._change_reason = "SUSAR unblinding"
        record.save()
        event_record(kind=EventKind.UNBLINDING, actor=actor, request=request, site=participant.site, obj=participant,
                     reason=reason, scope="susar", unblinding=record.pk)
    return arm


def study_lock_active() -> bool:
    return LockScope.objects.filter(level="study", kind="lock", released_at__isnull=True).exists()


def study_unblinded() -> bool:
    return Unblinding.objects.filter(kind=UnblindingKind.STUDY).exists()


def study_unblind(*, actor: User, reason: str, password: str, request: HttpRequest | None = None) -> Unblinding:
    """The statistician's audited act, once the study-scope lock is set; once only."""
    require_role(actor, {Role.STATISTICIAN}, "unblind the study")
    if not study_lock_active():
        raise DomainError(RandomizationError.STUDY_NOT_LOCKED, "The study is not locked; it can be unblinded only after the "
                          "study-scope lock is set.")
    if study_unblinded():
        raise DomainError(RandomizationError.STUDY_ALREADY_UNBLINDED, "The study is already unblinded.")
    reason = require_reason(reason, "unblinding the study")
    reauthenticate(user=actor, password=password, request=request, purpose="study unblinding")
    with transaction.atomic():
        record = Unblinding(kind=UnblindingKind.STUDY, user=actor, reason=reason)
        record._history_user = actor
        record._change_reason = "Study unblinding"
        record.save()
        event_record(kind=EventKind.UNBLINDING, actor=actor, request=request, obj=record, reason=reason, scope="study")
    return record


__all__ = ["assignment_visible_to", "participant_emergency_unblind", "reveal_for_susar", "study_unblind",
           "study_unblinded", "unblinding_notify_safety_contact"]
