"""What the home page tells safety users to do next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.core.home import Task, register_provider
from safety.selectors import adjudication_queue, adverse_events_for, clocks_for_board

if TYPE_CHECKING:
    from ecrf.accounts.models import User


@register_provider
def safety_tasks(user: User) -> list[Task]:
    roles = user_roles(user)
    tasks: list[Task] = []
    if roles & {Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE}:
        now = timezone.now()
        rows = clocks_for_board(user, now=now)
        overdue = sum(1 for r in rows if r.state == "overdue")
        tasks.append(Task("Reporting clocks", f"{len(rows)} open clocks, {overdue} overdue", reverse("safety:clock-board"),
                          count=len(rows), urgent=bool(overdue)))
    if roles & SITE_ENTRY_ROLES:
        n = adverse_events_for(user).exclude(death_check="").exclude(status="retracted").count()
        if n:
            tasks.append(Task("Adverse events and deaths", f"{n} adverse events to check against the Death form",
                              reverse("safety:ae-list") + "?death_check=1", count=n, urgent=False))
    if Role.SAFETY_OFFICER in roles:
        n = adjudication_queue(user).count()
        tasks.append(Task("Adjudication", f"{n} events to review", reverse("safety:adjudication-queue"), count=n))
    return tasks
