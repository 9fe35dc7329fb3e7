"""What the home page tells site staff and the lab to do next about screening."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.core.home import Task, register_provider
from ecrf.screening.models import Eligibility
from ecrf.screening.selectors import screening_log_for


@register_provider
def screening_tasks(user: Any) -> list[Task]:
    roles = user_roles(user)
    tasks: list[Task] = []
    if roles & SITE_ENTRY_ROLES:
        pending = screening_log_for(user).filter(eligibility=Eligibility.PENDING).count()
        tasks.append(Task(_("Screening log"), _("Screen every septic patient; %(n)s screening(s) pending.") % {"n": pending},
                          reverse("screening:log"), pending))
    if Role.LAB in roles:
        awaited = screening_log_for(user).filter(eligibility=Eligibility.PENDING, consented=True).count()
        tasks.append(Task(_("Central-lab results"), _("Consented patients whose screening awaits a result; import the lab's file."),
                          reverse("screening:lab-import"), awaited, urgent=bool(awaited)))
    return tasks
