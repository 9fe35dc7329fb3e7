"""Writes to the study configuration: audited; once live, every change needs a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from ecrf.accounts.roles import Role, require_role
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.study.models import Site, Study
from ecrf.study.protocol import Protocol
from ecrf.core.validation import full_clean_or_400

if TYPE_CHECKING:
    from ecrf.accounts.models import User


def current_study() -> Study | None:
    return Study.objects.current()


def current_protocol() -> Protocol:
    return Study.objects.current_protocol()


STUDY_EDITABLE = ("title", "time_zone", "is_live", "safety_contact_email", "protocol_overrides")


@transaction.atomic
def study_update(*, actor: User, study: Study, changes: dict[str, Any], version: int, reason: str = "") -> Study:
    require_role(actor, {Role.ADMIN})
    locked = Study.objects.select_for_update().get(pk=study.pk)
    if locked.version != version:
        raise DomainError(ErrorCode.STALE_VERSION, "The study configuration changed since you read it; reload and retry.")
    unknown = set(changes) - set(STUDY_EDITABLE)
    if unknown:
        raise DomainError(ErrorCode.UNKNOWN_FIELD, "Unknown study settings.", fields={k: "Not a study setting." for k in unknown})
    if locked.is_live and not reason.strip():
        raise DomainError(ErrorCode.REASON_REQUIRED, "The study is live: give a reason for this change.", fields={"reason": "Required once the study is live."})
    old = {k: getattr(locked, k) for k in changes}
    for key, value in changes.items():
        setattr(locked, key, value)
    full_clean_or_400(locked)
    locked.version += 1
    locked._change_reason = reason or "Study configuration"
    locked._history_user = actor
    locked.save()
    event_record(kind=EventKind.STUDY_CONFIG_CHANGE, actor=actor, obj=locked, reason=reason,
                 changes={k: {"old": old[k], "new": changes[k]} for k in changes})
    return locked


@transaction.atomic
def site_create(*, actor: User, code: str, name: str, country: str, time_zone: str) -> Site:
    require_role(actor, {Role.ADMIN})
    if Site.objects.filter(code=code).exists():
        raise invalid(f"A site with code {code} already exists.", code="Already in use.")
    site = Site(code=code, name=name, country=country.upper(), time_zone=time_zone)
    full_clean_or_400(site)
    site._history_user = actor
    site._change_reason = "Site created"
    site.save()
    return site
