"""Home-page tasks: the statistician's lists; site staff's eligible participants to randomize."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.core.home import Task, register_provider
from ecrf.screening.models import Eligibility
from ecrf.screening.selectors import screening_log_for


@register_provider
def randomization_tasks(user: Any) -> list[Task]:
    roles = user_roles(user)
    tasks: list[Task] = []
    if Role.STATISTICIAN in roles:
        tasks.append(Task(_("Allocation lists"), _("Generate, import or verify the lists; unblind the study after the lock."),
                          reverse("randomization:lists")))
    if roles & SITE_ENTRY_ROLES:
        ready = screening_log_for(user).filter(eligibility=Eligibility.ELIGIBLE, consented=True,
                                               participant__randomized_at__isnull=True).count()
        if ready:
            tasks.append(Task(_("Ready to randomize"), _("Eligible, consented participants (within 72 hours of Sepsis-3)."),
                              reverse("screening:log"), ready, urgent=True))
    return tasks
