"""Login security on every way in: django-axes throttles failed logins per user name and client
address together, and the API's token authentication refuses what a login would refuse.

Lockout is by the combination of user name and address (``AXES_LOCKOUT_PARAMETERS``), so that
someone elsewhere who knows a user name cannot lock the real user out (an emergency unblinder
must be able to log in during an attack on their account). The limits come from the protocol
configuration (``Protocol.max_failed_logins``, ``Protocol.lockout_minutes``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import backends as auth_backends
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Aggregate, CharField, OuterRef, Subquery, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from django.shortcuts import render
from axes.handlers.proxy import AxesProxyHandler

from ecrf.accounts.roles import Role
from ecrf.accounts.selectors import studies
from ecrf.accounts.views import LoginForm


class AxesBackend(AxesStandaloneBackend):
    """django-axes' backend, also for in-process calls of ``authenticate`` without a request
    (the test client's ``login``, scripts): they have no address, so they share one lockout
    bucket per user name instead of failing. Every web login (pages, admin) has its request."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        return super().authenticate(request if request is not None else HttpRequest(), username, password, **kwargs)


class _Joined(Aggregate):
    """Text values joined with commas: ``string_agg`` on PostgreSQL, ``group_concat`` on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


class ModelBackend(auth_backends.ModelBackend):
    """Django's model backend, whose ``get_user`` (run on every request of a logged-in session)
    reads with the user, in the same query, what nearly every request asks next: the role
    codes, the member sites, the first member site's time zone and the study's (the display
    zone of a user without a site role; ``ecrf.accounts.roles`` and ``selectors`` cache them
    on the user for the request). They are read fresh on every
    request, as the separate queries were: a role or site taken away applies to the next request.

    The query is compiled once per database (``_session_user_sql``): compiling its
    aggregate subqueries cost several times what running it costs, on every request."""

    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        db = router.db_for_read(model)
        sql, params = _session_user_sql(db, connections[db].vendor)
        user = next(iter(model._default_manager.db_manager(db).raw(
            sql, [user_id if p == _SENTINEL else p for p in params])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        user._role_cache = frozenset((user.held_role_codes or "").split(",")) & frozenset(Role.values)
        user._site_cache = frozenset(int(pk) for pk in (user.held_site_ids or "").split(",") if pk)
        user._first_site_tz = user.first_site_zone
        user._study_tz = user.study_zone
        return user


# The user id the compiled query is built with, replaced by the real one on each call.
_SENTINEL = -7_205_519


@functools.cache
def _session_user_sql(db: str, vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of the session user's query, with ``_SENTINEL`` for the user id
    (cached per database alias and vendor; the query's shape never changes at run time)."""
    model = get_user_model()
    groups = model.groups.through.objects.filter(user=OuterRef("pk")).values("user")
    sites = model.sites.through.objects.filter(user=OuterRef("pk")).values("user")
    first_site = model.sites.field.related_model.objects.filter(members=OuterRef("pk")).order_by("code")
    query = (model._default_manager.using(db)
             .annotate(held_role_codes=Subquery(groups.annotate(j=_Joined("group__name")).values("j")),
                       held_site_ids=Subquery(sites.annotate(j=_Joined(Cast("site_id", CharField()))).values("j")),
                       first_site_zone=Subquery(first_site.values("time_zone")[:1]),
                       study_zone=Subquery(studies().order_by("pk").values("time_zone")[:1]))
             .filter(pk=_SENTINEL)).query
    sql, params = query.get_compiler(using=db).as_sql()
    if list(params).count(_SENTINEL) != 1:
        raise ImproperlyConfigured("the session user's compiled query must take the user id exactly once")
    return sql, tuple(params)


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    """``AXES_FAILURE_LIMIT``: failed logins in a row before the lockout (Part 11)."""
    return studies().current_protocol().max_failed_logins


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: how long a lockout lasts."""
    return dt.timedelta(minutes=studies().current_protocol().lockout_minutes)


def client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the client's address. Behind ``ECRF_TRUSTED_PROXY_COUNT``
    reverse proxies it is the address the outermost trusted proxy saw (from X-Forwarded-For);
    a client cannot forge it, since only entries the trusted proxies appended are read."""
    proxies = getattr(settings, "ECRF_TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: dict | None = None) -> Any:
    """``AXES_LOCKOUT_CALLABLE``: the login page again with the lockout explained (429); the API
    never reaches it (token requests are refused by ``LockoutTokenAuthentication``)."""
    minutes = int(cool_off(request).total_seconds() // 60)
    form = LoginForm(request, data=None)
    message = (f"Too many failed logins for this user name from this address: try again in {minutes} minutes, "
               "or ask an administrator to unlock the account.")
    return render(request, "accounts/login.html", {"form": form, "lockout_message": message}, status=429)


def is_locked(request: HttpRequest, username: str) -> bool:
    """Whether ``username`` is locked out for this request's address."""
    return AxesProxyHandler.is_locked(request, credentials={"username": username})


class LockoutTokenAuthentication(TokenAuthentication):
    """DRF's token authentication that also refuses a token whose user is locked out (for this
    address) or inactive: a lockout applies to every way in, not to the login page alone."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if not user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        if is_locked(getattr(request, "_request", request), user.get_username()):
            raise exceptions.AuthenticationFailed(
                "This account is locked after repeated failed logins from this address; try again later.")
        return user, token
