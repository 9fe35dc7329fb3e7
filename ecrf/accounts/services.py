"""Account writes: creation with roles and sites, login security, re-authentication."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from ecrf.accounts.models import User
from ecrf.accounts.roles import SITE_SCOPED_ROLES, Role
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.study.models import Site
from ecrf.study.services import current_protocol


def ensure_role_groups() -> None:
    for code in Role.values:
        Group.objects.get_or_create(name=code)


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    roles: Iterable[str],
    site_codes: Iterable[str] = (),
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    with_token: bool = False,
    is_lead_safety_officer: bool = False,
) -> tuple[User, str | None]:
    """Create a user with roles and site memberships; validate everything before writing."""
    roles = list(dict.fromkeys(roles))
    site_codes = list(dict.fromkeys(site_codes))
    errors: dict[str, str] = {}
    if not username or User.objects.filter(username=username).exists():
        errors["username"] = f"User {username!r} already exists." if username else "A user name is required."
    unknown_roles = [r for r in roles if r not in Role.values]
    if not roles:
        errors["role"] = "Give at least one role."
    elif unknown_roles:
        errors["role"] = f"Unknown role {', '.join(unknown_roles)}; valid roles: {', '.join(Role.values)}."
    sites = list(Site.objects.filter(code__in=site_codes))
    missing = sorted(set(site_codes) - {s.code for s in sites})
    if missing:
        errors["site"] = f"Unknown site {', '.join(missing)}."
    if not errors and set(roles) & SITE_SCOPED_ROLES and not sites:
        errors["site"] = f"Role {', '.join(sorted(set(roles) & SITE_SCOPED_ROLES))} needs at least one --site."
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                is_lead_safety_officer=is_lead_safety_officer)
    if password is not None and "password" not in errors and not errors.get("username"):
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        raise DomainError(ErrorCode.INVALID, "; ".join(errors.values()), fields=errors)
    user.is_staff = bool(set(roles) & {Role.ADMIN, Role.DATA_MANAGER})
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user._history_user = actor
    user._change_reason = "User created"
    user.save()
    ensure_role_groups()
    user.groups.set(Group.objects.filter(name__in=roles))
    user.sites.set(sites)
    event_record(kind=EventKind.USER_CREATED, actor=actor, obj=user, roles=sorted(roles), sites=sorted(site_codes))
    token = Token.objects.create(user=user).key if with_token else None
    return user, token


def login_failed(*, username: str, request: HttpRequest | None) -> None:
    """Audit a failed login (the ``user_login_failed`` signal). django-axes counts it per user
    name and address and locks that combination after ``Protocol.max_failed_logins``."""
    event_record(kind=EventKind.LOGIN_FAILED, request=request, actor_username=username[:150])


def login_locked_out(*, username: str, request: HttpRequest | None) -> None:
    """Audit a lockout (django-axes' ``user_locked_out`` signal): the user name, and the user
    when the name is an account's, with the lockout's length."""
    user = User.objects.filter(username=username).first()
    event_record(kind=EventKind.LOCKOUT, request=request, obj=user, actor_username=username[:150],
                 minutes=current_protocol().lockout_minutes)


def login_succeeded(*, user: User, request: HttpRequest | None) -> None:
    event_record(kind=EventKind.LOGIN, actor=user, request=request)


def reauthenticate(*, user: Any, password: str | None, request: HttpRequest | None = None, purpose: str) -> None:
    """Password re-entry before a signature or an unblinding (Part 11: two components).

    A wrong password counts as a failed login (the same lockout per user name and address),
    and a locked-out user cannot re-authenticate even with the right password."""
    from django.contrib.auth.signals import user_login_failed

    from ecrf.accounts.backends import is_locked

    raw_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    locked = raw_request is not None and is_locked(raw_request, user.get_username())
    if locked or not password or not user.check_password(password):
        event_record(kind=EventKind.REAUTH_FAILED, actor=user, request=request, purpose=purpose)
        if password and not locked:
            # Sent like a failed login: django-axes counts it, the audit listener records it.
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=raw_request)
        raise DomainError(ErrorCode.REAUTH_FAILED, "Re-enter your password to confirm; the password given is not correct.",
                          fields={"password": "Incorrect password."})


def require_reason(reason: str | None, what: str = "this change") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise invalid(f"Give a reason for {what}.", reason="A reason is required.")
    return reason
