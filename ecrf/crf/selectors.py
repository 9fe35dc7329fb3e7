"""Reads of clinical objects, always scoped to what the user may see (site, role, blinding)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.accounts.roles import PARTICIPANT_LIST_ROLES, user_roles
from ecrf.accounts.selectors import sites_visible_to
from ecrf.core.errors import not_found
from ecrf.crf.models import CRF, Participant
from ecrf.crf.registry import FormSpec


def participants_for(user: Any, roles: frozenset[str] | set[str] = PARTICIPANT_LIST_ROLES) -> QuerySet[Participant]:
    sites = sites_visible_to(user, roles)
    qs = Participant.objects.select_related("site")
    if sites is None:
        return qs
    return qs.filter(site__in=sites)


def participant_get(user: Any, pk: Any, roles: frozenset[str] | set[str] = PARTICIPANT_LIST_ROLES) -> Participant:
    """The participant if ``user`` may see it; the same 404 for missing and out-of-scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found("participant") from None
    participant = participants_for(user, roles).filter(pk=pk).first()
    if participant is None:
        raise not_found("participant")
    return participant


def forms_for(user: Any, spec: FormSpec) -> QuerySet[CRF]:
    visible = participants_for(user, spec.read_roles | spec.correction_roles)
    return spec.model.objects.filter(participant__in=visible.values("pk")).select_related("participant", "participant__site")


def form_get(user: Any, spec: FormSpec, pk: Any) -> CRF:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found(spec.label) from None
    form = forms_for(user, spec).filter(pk=pk).first()
    if form is None:
        raise not_found(spec.label)
    return form


def can_read_forms(user: Any, spec: FormSpec) -> bool:
    return bool(user_roles(user) & (spec.read_roles | spec.correction_roles))
