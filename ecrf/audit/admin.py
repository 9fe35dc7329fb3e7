from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ecrf.accounts.roles import Role, user_roles
from ecrf.audit.models import Event, EventKind
from ecrf.core.admin import ReadOnlyAdmin

# Who may see the single-case SUSAR unblinding events: pharmacovigilance alone (there is no
# separate audit-reader role). Their existence says that a case is a potential SUSAR, which
# data managers and administrators must not learn (ARCHITECTURE.md "Roles", invariant 6).
SUSAR_EVENT_ROLES = frozenset({Role.PHARMACOVIGILANCE})


def events_visible_to(user: object, queryset: QuerySet[Event]) -> QuerySet[Event]:
    """The event log as ``user`` may read it: SUSAR unblindings only for ``SUSAR_EVENT_ROLES``."""
    if user_roles(user) & SUSAR_EVENT_ROLES:
        return queryset
    return queryset.exclude(kind=EventKind.UNBLINDING, detail__scope="susar")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    view_roles = frozenset({Role.ADMIN, Role.DATA_MANAGER})
    list_display = ("at", "kind", "actor_username", "object_type", "object_id", "ip_address")
    list_filter = ("kind",)
    search_fields = ("actor_username", "object_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return events_visible_to(request.user, super().get_queryset(request))
