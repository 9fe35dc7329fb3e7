"""Role-based admin base: the Django admin is read-mostly and every write goes to a service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from ecrf.accounts.roles import user_roles


class RoleAdmin(admin.ModelAdmin):
    view_roles: frozenset[str] = frozenset()
    change_roles: frozenset[str] = frozenset()
    add_roles: frozenset[str] = frozenset()

    def _has(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        return bool(request.user.is_active and request.user.is_staff and user_roles(request.user) & roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._has(request, self.view_roles | self.change_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._has(request, self.view_roles | self.change_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._has(request, self.change_roles)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._has(request, self.add_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # clinical data and audit are never deleted; users are deactivated

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


class ReadOnlyAdmin(RoleAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def get_actions(self, request: HttpRequest) -> dict:
        return {}
