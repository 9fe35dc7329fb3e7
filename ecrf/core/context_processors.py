from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ecrf.accounts.roles import Role, user_roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else frozenset()
    labels = dict(Role.choices)
    return {"user_roles": sorted(roles), "user_role_labels": [labels[r] for r in sorted(roles)], "Role": Role}
