from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy
from django.shortcuts import redirect

from ecrf.accounts.models import GrantStatus, RoleGrant, User
from ecrf.accounts.roles import UNBLINDED_ROLES, Role, user_roles
from ecrf.accounts.services import role_grant_approve, role_grant_refuse, role_grant_request
from ecrf.core.errors import DomainError

admin.site.unregister(Group)
# API tokens are issued by `create_user --token`; no admin screen shows their keys.
admin.site.unregister(TokenProxy)


def _is_admin(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff and Role.ADMIN in user_roles(request.user)


class UserAdminForm(UserChangeForm):
    """Separation of duties: the change form offers blinded roles only. Unblinded memberships
    the user already holds are kept as they are (they change only through role grants)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].queryset = Group.objects.exclude(name__in=UNBLINDED_ROLES).order_by("name")
            self.fields["groups"].help_text = ("Blinded roles. Unblinded roles (statistician, pharmacist, DSMB, "
                                               "pharmacovigilance) are requested and approved under Role grants.")

    def clean_groups(self) -> QuerySet[Group]:
        chosen = self.cleaned_data["groups"]
        kept = self.instance.groups.filter(name__in=UNBLINDED_ROLES) if self.instance.pk else Group.objects.none()
        return Group.objects.filter(pk__in=[g.pk for g in chosen] + [g.pk for g in kept])


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Administrators manage accounts, blinded roles (groups) and site memberships; every change
    is in the user's history and the event log. Accounts are deactivated, never deleted."""

    form = UserAdminForm
    list_display = ("username", "email", "is_active", "is_lead_safety_officer")
    filter_horizontal = ("groups", "sites")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_staff", "groups", "sites", "is_lead_safety_officer")}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        obj._history_user = request.user
        obj._change_reason = "Account changed by an administrator"
        super().save_model(request, obj, form, change)


class RoleGrantRequestForm(forms.ModelForm):
    class Meta:
        model = RoleGrant
        fields = ("user", "role", "reason")

    role = forms.ChoiceField(choices=[(r, Role(r).label) for r in sorted(UNBLINDED_ROLES)])


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    """Unblinded roles: one administrator requests (with a reason), a second approves or
    refuses; neither may be the grantee. Each step goes through ``ecrf.accounts.services``."""

    list_display = ("user", "role", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", "role")
    actions = ("approve", "refuse")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and _is_admin(request)  # the list's actions; a grant is never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = RoleGrantRequestForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RoleGrant._meta.fields] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: RoleGrant, form: Any, change: bool) -> None:
        created = role_grant_request(actor=request.user, user=form.cleaned_data["user"], role=form.cleaned_data["role"],
                                     reason=form.cleaned_data["reason"], request=request)
        obj.pk = created.pk

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

            return redirect(request.path)

    def _decide(self, request: HttpRequest, queryset: QuerySet[RoleGrant], approve: bool) -> None:
        for grant in queryset.filter(status=GrantStatus.PENDING):
            try:
                if approve:
                    role_grant_approve(actor=request.user, grant=grant, request=request)
                else:
                    role_grant_refuse(actor=request.user, grant=grant, request=request,
                                      reason=f"Refused by {request.user.get_username()} in the admin")
            except DomainError as exc:
                self.message_user(request, f"{grant}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{grant}: {'approved' if approve else 'refused'}.", messages.SUCCESS)

    @admin.action(description="Approve the selected grants (you must not be the requester or the grantee)")
    def approve(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse the selected grants")
    def refuse(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        self._decide(request, queryset, approve=False)
