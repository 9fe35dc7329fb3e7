"""Reads of SOFA days and endpoints, scoped to what the user may see (site, role; never arm)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.accounts.roles import Role, user_roles
from ecrf.crf.models import Participant
from ecrf.crf.selectors import participant_get, participants_for
from ecrf.sofa.models import COUNTED_STATUSES, SofaDay, SofaEndpoint

# Who sees a participant's endpoint values (the endpoint contract: site staff, monitors, data managers; the
# sponsor sees aggregate dashboards only). The values are blinded: they never carry the arm.
ENDPOINT_READ_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER})
# Who sees the SOFA trajectory: whoever reads the casebook.
TRAJECTORY_READ_ROLES = frozenset({Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER,
                                   Role.SAFETY_OFFICER})


def can_read_endpoints(user: Any) -> bool:
    return bool(user_roles(user) & ENDPOINT_READ_ROLES)


def endpoints_for(user: Any) -> QuerySet[SofaEndpoint]:
    visible = participants_for(user, ENDPOINT_READ_ROLES)
    return SofaEndpoint.objects.filter(participant__in=visible.values("pk")).select_related("participant",
                                                                                             "participant__site")


def endpoint_of(user: Any, participant: Participant) -> SofaEndpoint | None:
    participant_get(user, participant.pk, ENDPOINT_READ_ROLES)
    return SofaEndpoint.objects.filter(participant=participant).first()


def sofa_days_of(participant: Participant) -> list[SofaDay]:
    """The participant's counted SOFA days in day order (callers have checked visibility)."""
    return list(SofaDay.objects.filter(participant=participant, status__in=COUNTED_STATUSES).order_by("day", "pk"))
