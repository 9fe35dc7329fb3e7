from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role, user_roles

admin.site.unregister(Group)
# API tokens are issued by `create_user --token`; no admin screen shows their keys.
admin.site.unregister(TokenProxy)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Administrators manage accounts, roles (groups) and site memberships; every change is
    in the user's history and the event log. Accounts are deactivated, never deleted."""

    list_display = ("username", "email", "is_active", "is_lead_safety_officer")
    filter_horizontal = ("groups", "sites")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_staff", "groups", "sites", "is_lead_safety_officer")}),
    )

    def _is_admin(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and Role.ADMIN in user_roles(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        obj._history_user = request.user
        obj._change_reason = "Account changed by an administrator"
        super().save_model(request, obj, form, change)
