"""Decoupled audit hooks on Django's auth signals (logins, logouts, role and site changes)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from ecrf.accounts.models import User
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record


@receiver(user_logged_in, dispatch_uid="ecrf.accounts.logged_in")
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    from ecrf.accounts.services import login_succeeded

    login_succeeded(user=user, request=request)


@receiver(user_login_failed, dispatch_uid="ecrf.accounts.login_failed")
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    from ecrf.accounts.services import login_failed

    login_failed(username=str(credentials.get("username", "")), request=request)


@receiver(user_locked_out, dispatch_uid="ecrf.accounts.locked_out")
def _locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    from ecrf.accounts.services import login_locked_out

    login_locked_out(username=str(username or ""), request=request)


@receiver(user_logged_out, dispatch_uid="ecrf.accounts.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        event_record(kind=EventKind.LOGOUT, actor=user, request=request)


def _membership_changed(kind: EventKind, attr: str):  # noqa: ANN202
    def handler(sender: Any, instance: Any, action: str, pk_set: set | None, **kwargs: Any) -> None:
        if action not in {"post_add", "post_remove", "post_clear"} or not isinstance(instance, User):
            return
        current = sorted(getattr(instance, attr).values_list("name" if attr == "groups" else "code", flat=True))
        event_record(kind=kind, obj=instance, action=action, now=current)
        for cache in ("_role_cache", "_site_cache", "_tz_cache"):
            instance.__dict__.pop(cache, None)

    return handler


m2m_changed.connect(_membership_changed(EventKind.ROLE_CHANGE, "groups"), sender=User.groups.through,
                    dispatch_uid="ecrf.accounts.roles", weak=False)
m2m_changed.connect(_membership_changed(EventKind.SITE_MEMBERSHIP_CHANGE, "sites"), sender=User.sites.through,
                    dispatch_uid="ecrf.accounts.sites", weak=False)
