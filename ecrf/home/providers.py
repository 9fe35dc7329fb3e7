"""The home page's general tasks: unread notifications, the participants and drafts in the
user's scope, administration. App-specific tasks come from each app's ``home.py``."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from ecrf.accounts.roles import PARTICIPANT_LIST_ROLES, SITE_ENTRY_ROLES, Role, user_roles
from ecrf.core.home import Task, register_provider
from ecrf.crf.models import EntryStatus
from ecrf.crf.registry import all_specs
from ecrf.crf.selectors import forms_for, participants_for
from ecrf.notifications.selectors import inbox_for


@register_provider
def _inbox_tasks(user) -> list[Task]:  # noqa: ANN001
    unread = inbox_for(user).filter(read_at__isnull=True).count()
    if not unread:
        return []
    return [Task(_("Unread notifications"), _("Read and act on them."), reverse("notifications:inbox"), unread, urgent=True)]


def _draft_count(user, specs) -> int:  # noqa: ANN001
    """The user's drafts over every form type they enter, in one query: a ``UNION ALL`` of one
    count per form table, each answered from the table's (status, participant) index, so that the
    home page costs one statement and no full scan however many form types and rows there are."""
    counts = [forms_for(user, spec).filter(status=EntryStatus.DRAFT).order_by().values("status")
              .annotate(n=Count("pk")).values("n") for spec in specs]
    if not counts:
        return 0
    return sum(counts[0].union(*counts[1:], all=True).values_list("n", flat=True))


@register_provider
def _site_tasks(user) -> list[Task]:  # noqa: ANN001
    roles = user_roles(user)
    tasks: list[Task] = []
    if roles & PARTICIPANT_LIST_ROLES:
        counts = participants_for(user).aggregate(total=Count("pk"), randomized=Count("pk", filter=Q(randomized_at__isnull=False)))
        tasks.append(Task(_("Participants"), _("%(total)s screened, %(randomized)s randomized in your scope.") % counts,
                          reverse("crf:participant-list"), counts["total"]))
    if roles & SITE_ENTRY_ROLES:
        drafts = _draft_count(user, [spec for spec in all_specs() if roles & spec.write_roles])
        if drafts:
            tasks.append(Task(_("Forms in draft"), _("Complete and submit them."), reverse("crf:participant-list"), drafts, urgent=True))
    if Role.ADMIN in roles:
        tasks.append(Task(_("Users, sites and roles"), _("Manage accounts and the study configuration."), reverse("admin:index")))
    return tasks
