from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Model, QuerySet

from ecrf.accounts.roles import ALL_SITE_ROLES, SITE_SCOPED_ROLES, user_roles


# The study app (sites, the running study's configuration) is a layer above accounts (it checks
# roles): accounts reaches its models through Django's app registry, as ``User.sites`` names
# "study.Site", instead of importing them (ARCHITECTURE.md "Layers").
def site_model() -> type[Model]:
    return apps.get_model("study", "Site")


def studies() -> Any:
    """The study manager: ``studies().current()``, ``studies().current_protocol()``."""
    return apps.get_model("study", "Study").objects


def member_site_ids(user: Any) -> frozenset[int]:
    cached = getattr(user, "_site_cache", None)
    if cached is None:
        cached = frozenset(user.sites.values_list("pk", flat=True)) if user.is_authenticated else frozenset()
        user._site_cache = cached
    return cached


def sites_visible_to(user: Any, roles: frozenset[str] | set[str]) -> QuerySet | None:
    """Sites whose clinical data ``user`` may see through any of ``roles``.

    ``None`` means every site. Site-scoped roles give the user's member sites; central roles
    give all sites; a role not in ``roles`` gives nothing.
    """
    held = user_roles(user) & frozenset(roles)
    if held & ALL_SITE_ROLES:
        return None
    if held & SITE_SCOPED_ROLES:
        return site_model().objects.filter(pk__in=member_site_ids(user))
    return site_model().objects.none()


# Not read yet (None is read: no study).
_UNREAD = object()


def display_time_zone(user: Any) -> str:
    cached = getattr(user, "_tz_cache", None)
    if cached:
        return cached
    site_tz = None
    if user_roles(user) & SITE_SCOPED_ROLES:
        # The zone of the first member site by code (read with the user at login, see
        # ecrf.accounts.backends.ModelBackend; otherwise here).
        site_tz = getattr(user, "_first_site_tz", None) or user.sites.order_by("code").values_list(
            "time_zone", flat=True).first()
    if site_tz:
        tz = site_tz
    else:
        # The study's zone, read with the user on a session request (ModelBackend.get_user).
        tz = getattr(user, "_study_tz", _UNREAD)
        if tz is _UNREAD:
            study = studies().current()
            tz = study.time_zone if study else None
        tz = tz or "UTC"
    user._tz_cache = tz
    return tz
