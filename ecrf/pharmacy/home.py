from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import Role, user_roles
from ecrf.core.home import Task, register_provider


@register_provider
def pharmacy_tasks(user: Any) -> list[Task]:
    if Role.PHARMACIST not in user_roles(user):
        return []
    return [Task(_("Study drug preparation"), _("What each randomized participant of your site needs; record each preparation."),
                 reverse("pharmacy:worklist"))]
