from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.accounts.roles import ALL_SITE_ROLES, SITE_SCOPED_ROLES, user_roles
from ecrf.study.models import Site


def member_site_ids(user: Any) -> frozenset[int]:
    cached = getattr(user, "_site_cache", None)
    if cached is None:
        cached = frozenset(user.sites.values_list("pk", flat=True)) if user.is_authenticated else frozenset()
        user._site_cache = cached
    return cached


def sites_visible_to(user: Any, roles: frozenset[str] | set[str]) -> QuerySet[Site] | None:
    """Sites whose clinical data ``user`` may see through any of ``roles``.

    ``None`` means every site. Site-scoped roles give the user's member sites; central roles
    give all sites; a role not in ``roles`` gives nothing.
    """
    held = user_roles(user) & frozenset(roles)
    if held & ALL_SITE_ROLES:
        return None
    if held & SITE_SCOPED_ROLES:
        return Site.objects.filter(pk__in=member_site_ids(user))
    return Site.objects.none()


def display_time_zone(user: Any) -> str:
    cached = getattr(user, "_tz_cache", None)
    if cached:
        return cached
    site = user.sites.order_by("code").first() if user_roles(user) & SITE_SCOPED_ROLES else None
    if site is not None:
        tz = site.time_zone
    else:
        from ecrf.study.services import current_study

        study = current_study()
        tz = study.time_zone if study else "UTC"
    user._tz_cache = tz
    return tz
