"""Account writes: creation with roles and sites, unblinded-role grants (separation of
duties), login security, re-authentication."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from simple_history.models import HistoricalRecords
from django.contrib.auth.signals import user_login_failed

from ecrf.accounts.models import GrantStatus, RoleGrant, User
from ecrf.accounts.roles import SITE_SCOPED_ROLES, UNBLINDED_ROLES, Role, require_role
from ecrf.accounts.selectors import site_model, studies
from ecrf.audit.models import EventKind
from ecrf.audit.services import client_ip, event_record
from ecrf.accounts.errors import AccountsError
from ecrf.core.errors import DomainError, ErrorCode, invalid
from ecrf.accounts.backends import is_locked


_membership: contextvars.ContextVar[tuple[Any, HttpRequest | None, str] | None] = contextvars.ContextVar(
    "ecrf_membership_actor", default=None)


@contextlib.contextmanager
def membership_change(*, actor: User, request: HttpRequest | None, reason: str) -> Iterator[None]:
    """Who changes group or site memberships inside this block, from where and why: the
    membership signal puts it on the role_change event and in the user's history."""
    token = _membership.set((actor, request, reason))
    try:
        yield
    finally:
        _membership.reset(token)


def membership_actor() -> tuple[Any, HttpRequest | None, str]:
    """The actor, request and reason of the membership change under way: those given to
    ``membership_change``, else the web request's user (the admin, through simple-history's
    request middleware), else nobody (code run on the server)."""
    given = _membership.get()
    if given is not None:
        return given

    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return (user if getattr(user, "is_authenticated", False) else None), request, ""


def ensure_role_groups() -> None:
    for code in Role.values:
        Group.objects.get_or_create(name=code)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    roles: Iterable[str],
    site_codes: Iterable[str] = (),
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    with_token: bool = False,
    is_lead_safety_officer: bool = False,
    request_unblinded: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
) -> tuple[User, str | None]:
    """Create a user with roles and site memberships; validate everything before writing.

    Unblinded roles (separation of duties): with ``request_unblinded`` (the ``create_user``
    command) the account gets its blinded roles now and a *pending* grant for each unblinded
    role, with ``reason``, for an administrator other than the grantee to approve. A person
    (``actor``) never gets them from here. Only code running on the server with no acting user
    (test fixtures, the synthetic demo trial) seeds granted grants directly, recorded as such."""
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
    sites = list(site_model().objects.filter(code__in=site_codes))
    missing = sorted(set(site_codes) - {s.code for s in sites})
    if missing:
        errors["site"] = f"Unknown site {', '.join(missing)}."
    if not errors and set(roles) & SITE_SCOPED_ROLES and not sites:
        errors["site"] = f"Role {', '.join(sorted(set(roles) & SITE_SCOPED_ROLES))} needs at least one --site."
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                is_lead_safety_officer=is_lead_safety_officer)
    unblinded = [r for r in roles if r in UNBLINDED_ROLES]
    if unblinded and getattr(actor, "is_authenticated", False):
        errors["role"] = (f"The unblinded role {', '.join(unblinded)} is not given at account creation: request it "
                          "as a role grant, approved by a second administrator.")
    if unblinded and request_unblinded and not (reason or "").strip():
        errors["reason"] = f"Give a reason (--reason) for requesting the unblinded role {', '.join(unblinded)}."
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
    now_roles = [r for r in roles if r not in UNBLINDED_ROLES]
    for role in unblinded:
        if request_unblinded:
            _grant_save(RoleGrant(user=user, role=role, reason=reason.strip(), requested_ip=client_ip(request)),
                        actor=None, change="Unblinded role requested at account creation")
        else:
            _grant_save(RoleGrant(user=user, role=role, status=GrantStatus.GRANTED, decided_at=timezone.now(),
                                  reason="Seeded by server-side code with no acting user"),
                        actor=None, change="Unblinded role seeded by server-side code")
            now_roles.append(role)
    with membership_change(actor=actor, request=request, reason="User created"):
        user.groups.set(Group.objects.filter(name__in=now_roles))
        user.sites.set(sites)
    event_record(kind=EventKind.USER_CREATED, actor=actor, request=request, obj=user, roles=sorted(now_roles),
                 sites=sorted(site_codes), pending_roles=sorted(unblinded) if request_unblinded else [])
    token = Token.objects.create(user=user).key if with_token else None
    return user, token


def _grant_save(grant: RoleGrant, *, actor: User | None, change: str) -> RoleGrant:
    grant._history_user = actor if getattr(actor, "is_authenticated", False) else None
    grant._change_reason = change
    grant.save()
    return grant


def _require_admin(actor: User, what: str) -> None:
    require_role(actor, {Role.ADMIN}, what)


@transaction.atomic
def role_grant_request(*, actor: User, user: User, role: str, reason: str,
                       request: HttpRequest | None = None) -> RoleGrant:
    """First of two persons: an administrator asks for an unblinded role for someone else."""
    _require_admin(actor, "request unblinded roles")
    reason = require_reason(reason, "granting an unblinded role")
    if role not in UNBLINDED_ROLES:
        raise invalid(f"{role!r} is not an unblinded role; unblinded roles: {', '.join(sorted(UNBLINDED_ROLES))}.",
                      role="Not an unblinded role.")
    if user.pk == actor.pk:
        raise DomainError(ErrorCode.FORBIDDEN, "You may not request an unblinded role for yourself.")
    if RoleGrant.objects.filter(user=user, role=role, status__in=[GrantStatus.PENDING, GrantStatus.GRANTED]).exists():
        raise DomainError(AccountsError.ROLE_HELD_OR_PENDING, f"{user.username} already has or awaits the role {role}.")
    grant = _grant_save(RoleGrant(user=user, role=role, reason=reason, requested_by=actor,
                                  requested_ip=client_ip(request)), actor=actor, change="Unblinded role requested")
    event_record(kind=EventKind.ROLE_CHANGE, actor=actor, request=request, obj=user, reason=reason,
                 action="grant_requested", role=role, grant=grant.pk)
    return grant


def _open_grant(grant: RoleGrant) -> RoleGrant:
    current = RoleGrant.objects.select_for_update().select_related("user").get(pk=grant.pk)
    if current.status != GrantStatus.PENDING:
        raise DomainError(AccountsError.GRANT_NOT_PENDING, f"This grant is {current.get_status_display().lower()}, not pending.")
    return current


@transaction.atomic
def role_grant_approve(*, actor: User, grant: RoleGrant, reason: str = "",
                       request: HttpRequest | None = None) -> RoleGrant:
    """Second person: a different administrator, not the grantee, approves; the user joins the group."""
    _require_admin(actor, "approve unblinded roles")
    current = _open_grant(grant)
    if current.user_id == actor.pk:
        raise DomainError(ErrorCode.FORBIDDEN, "You may not approve an unblinded role for yourself.")
    if current.requested_by_id == actor.pk:
        raise DomainError(ErrorCode.FORBIDDEN, "A second administrator must approve: you requested this grant.")
    current.status, current.decided_by, current.decided_at = GrantStatus.GRANTED, actor, timezone.now()
    current.decided_ip, current.decision_reason = client_ip(request), (reason or "").strip()
    _grant_save(current, actor=actor, change="Unblinded role approved")
    ensure_role_groups()
    with membership_change(actor=actor, request=request, reason=f"Granted {current.role}: {current.reason}"[:300]):
        current.user.groups.add(Group.objects.get(name=current.role))
    return current


@transaction.atomic
def role_grant_refuse(*, actor: User, grant: RoleGrant, reason: str, request: HttpRequest | None = None) -> RoleGrant:
    _require_admin(actor, "refuse unblinded roles")
    reason = require_reason(reason, "refusing the grant")
    current = _open_grant(grant)
    current.status, current.decided_by, current.decided_at = GrantStatus.REFUSED, actor, timezone.now()
    current.decided_ip, current.decision_reason = client_ip(request), reason
    _grant_save(current, actor=actor, change="Unblinded role refused")
    event_record(kind=EventKind.ROLE_CHANGE, actor=actor, request=request, obj=current.user, reason=reason,
                 action="grant_refused", role=current.role, grant=current.pk)
    return current


@transaction.atomic
def role_revoke(*, actor: User, grant: RoleGrant, reason: str, request: HttpRequest | None = None) -> RoleGrant:
    """Withdrawing an unblinded role needs one administrator (removing access is never a risk)."""
    _require_admin(actor, "revoke unblinded roles")
    reason = require_reason(reason, "revoking the role")
    current = RoleGrant.objects.select_for_update().select_related("user").get(pk=grant.pk)
    if current.status != GrantStatus.GRANTED:
        raise DomainError(AccountsError.ROLE_NOT_GRANTED, "Only a granted role can be revoked.")
    current.status, current.revoked_by, current.revoked_at = GrantStatus.REVOKED, actor, timezone.now()
    current.revoked_ip, current.revoke_reason = client_ip(request), reason
    _grant_save(current, actor=actor, change="Unblinded role revoked")
    with membership_change(actor=actor, request=request, reason=f"Revoked {current.role}: {reason}"[:300]):
        current.user.groups.remove(*Group.objects.filter(name=current.role))
    return current


def login_failed(*, username: str, request: HttpRequest | None) -> None:
    """Audit a failed login (the ``user_login_failed`` signal). django-axes counts it per user
    name and address and locks that combination after ``Protocol.max_failed_logins``."""
    event_record(kind=EventKind.LOGIN_FAILED, request=request, actor_username=username[:150])


def login_locked_out(*, username: str, request: HttpRequest | None) -> None:
    """Audit a lockout (django-axes' ``user_locked_out`` signal): the user name, and the user
    when the name is an account's, with the lockout's length."""
    user = User.objects.filter(username=username).first()
    event_record(kind=EventKind.LOCKOUT, request=request, obj=user, actor_username=username[:150],
                 minutes=studies().current_protocol().lockout_minutes)


def login_succeeded(*, user: User, request: HttpRequest | None) -> None:
    event_record(kind=EventKind.LOGIN, actor=user, request=request)


def reauthenticate(*, user: Any, password: str | None, request: HttpRequest | None = None, purpose: str) -> None:
    """Password re-entry before a signature or an unblinding (Part 11: two components).

    A wrong password counts as a failed login (the same lockout per user name and address),
    and a locked-out user cannot re-authenticate even with the right password."""
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
