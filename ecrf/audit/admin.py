from django.contrib import admin

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event
from ecrf.core.admin import ReadOnlyAdmin


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    view_roles = frozenset({Role.ADMIN, Role.DATA_MANAGER})
    list_display = ("at", "kind", "actor_username", "object_type", "object_id", "ip_address")
    list_filter = ("kind",)
    search_fields = ("actor_username", "object_id")
