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


def _member_sites(user: Any) -> tuple[tuple[int, str], ...]:
    """(pk, time zone) of the user's member sites by code, read once per request: the site
    scope and the display time zone of nearly every request come from this one query."""
    cached = getattr(user, "_site_cache", None)
    if cached is None:
        cached = tuple(user.sites.order_by("code").values_list("pk", "time_zone")) if user.is_authenticated else ()
        user._site_cache = cached
    return cached


def member_site_ids(user: Any) -> frozenset[int]:
    return frozenset(pk for pk, _ in _member_sites(user))


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


def display_time_zone(user: Any) -> str:
    cached = getattr(user, "_tz_cache", None)
    if cached:
        return cached
    sites = _member_sites(user) if user_roles(user) & SITE_SCOPED_ROLES else ()
    if sites:
        tz = sites[0][1]
    else:
        study = studies().current()
        tz = study.time_zone if study else "UTC"
    user._tz_cache = tz
    return tz
