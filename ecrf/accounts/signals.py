"""Audit hooks on Django's auth signals (logins, logouts, role and site changes), and the
separation-of-duties backstop on group membership.

The membership hooks run for every path that changes a user's groups or sites (services, the
admin form, a shell), so none can skip them: each change is an event with the actor, the IP and
the reason, and a row in the user's own history with the roles and sites held afterwards.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

from ecrf.accounts.models import GrantStatus, RoleGrant, User
from ecrf.accounts.roles import UNBLINDED_ROLES
from ecrf.accounts.services import login_failed, login_locked_out, login_succeeded, membership_actor
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode


@receiver(user_logged_in, dispatch_uid="ecrf.accounts.logged_in")
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    login_succeeded(user=user, request=request)


@receiver(user_login_failed, dispatch_uid="ecrf.accounts.login_failed")
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    login_failed(username=str(credentials.get("username", "")), request=request)


@receiver(user_locked_out, dispatch_uid="ecrf.accounts.locked_out")
def _locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    login_locked_out(username=str(username or ""), request=request)


@receiver(user_logged_out, dispatch_uid="ecrf.accounts.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        event_record(kind=EventKind.LOGOUT, actor=user, request=request)


def held(user: User) -> tuple[str, str]:
    """The roles and sites ``user`` holds now, as the user's history records them."""
    if user.pk is None:
        return "", ""
    roles = ",".join(sorted(user.groups.values_list("name", flat=True)))
    sites = ",".join(sorted(user.sites.values_list("code", flat=True)))
    return roles, sites


@receiver(pre_create_historical_record, dispatch_uid="ecrf.accounts.history_membership")
def _history_membership(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, User):
        history_instance.roles_held, history_instance.sites_held = held(instance)


def _refuse_ungranted_unblinded_roles(user_ids: set[int], group_ids: set[int]) -> None:
    """Separation of duties: an unblinded group is joined only with a granted RoleGrant
    (two administrators, neither the grantee; ``ecrf.accounts.services.role_grant_*``)."""
    names = set(Group.objects.filter(pk__in=group_ids, name__in=UNBLINDED_ROLES).values_list("name", flat=True))
    if not names:
        return
    granted = set(RoleGrant.objects.filter(user_id__in=user_ids, role__in=names, status=GrantStatus.GRANTED)
                  .values_list("user_id", "role"))
    missing = sorted(name for name in names for uid in user_ids if (uid, name) not in granted)
    if missing:
        raise DomainError(ErrorCode.FORBIDDEN, f"The unblinded role {', '.join(missing)} is granted only through a "
                          "role grant requested by one administrator and approved by another (never the grantee).")


def _membership_changed(kind: EventKind, attr: str):  # noqa: ANN202
    def handler(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set | None, **kwargs: Any) -> None:
        if attr == "groups" and action == "pre_add" and pk_set:
            if reverse:  # group.user_set.add(users)
                _refuse_ungranted_unblinded_roles(set(pk_set), {instance.pk})
            else:
                _refuse_ungranted_unblinded_roles({instance.pk}, set(pk_set))
            return
        if action not in {"post_add", "post_remove", "post_clear"}:
            return

        users = [instance] if isinstance(instance, User) else list(User.objects.filter(pk__in=pk_set or ()))
        actor, request, reason = membership_actor()
        for user in users:
            for cache in ("_role_cache", "_site_cache", "_tz_cache", "_first_site_tz", "_study_tz"):
                user.__dict__.pop(cache, None)
            roles, sites = held(user)
            now = roles.split(",") if attr == "groups" else sites.split(",")
            event_record(kind=kind, actor=actor, request=request, obj=user, reason=reason, action=action,
                         now=[n for n in now if n])
            _history_row(user, actor=actor, reason=reason or f"{kind.label}: now {roles or sites or 'none'}")

    return handler


def _history_row(user: User, *, actor: User | None, reason: str) -> None:
    model = User.history.model
    record = model(history_date=timezone.now(), history_type="~", history_change_reason=reason[:100],
                   history_user=actor if getattr(actor, "is_authenticated", False) else None,
                   **{f.attname: getattr(user, f.attname) for f in model.tracked_fields})
    record.roles_held, record.sites_held = held(user)
    record.save()


m2m_changed.connect(_membership_changed(EventKind.ROLE_CHANGE, "groups"), sender=User.groups.through,
                    dispatch_uid="ecrf.accounts.roles", weak=False)
m2m_changed.connect(_membership_changed(EventKind.SITE_MEMBERSHIP_CHANGE, "sites"), sender=User.sites.through,
                    dispatch_uid="ecrf.accounts.sites", weak=False)
