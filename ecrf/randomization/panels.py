"""The randomization panel on the participant page: the randomize button for site staff, the
blinded facts (randomized, when, subject ID, "IV study drug" / "SC study drug", the emergency
flag), emergency unblinding for investigators, and the arm only for those allowed to see it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.crf.panels import Panel, register_panel
from ecrf.randomization.unblinding import assignment_visible_to
from ecrf.screening.selectors import screening_outcome


@register_panel
def randomization_panel(user: Any, participant: Any) -> Panel | None:
    roles = user_roles(user)
    arm = assignment_visible_to(user, participant)
    at_site = participant.site_id in member_site_ids(user)
    if not (roles & SITE_ENTRY_ROLES and at_site) and arm is None:
        return None
    outcome = screening_outcome(participant) if not participant.is_randomized else None
    return Panel(title=_("Randomization"), template="randomization/panel.html", order=20, context={
        "participant": participant, "outcome": outcome, "arm": arm,
        "can_randomize": bool(roles & SITE_ENTRY_ROLES and at_site and not participant.is_randomized and outcome
                              and outcome.eligibility == "eligible" and outcome.consented),
        "can_unblind": Role.INVESTIGATOR in roles and at_site and participant.is_randomized,
    })
