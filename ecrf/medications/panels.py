from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, user_roles
from ecrf.crf.panels import Panel, register_panel
from ecrf.medications.selectors import eligibility_contradictions


@register_panel
def eligibility_warning(user: Any, participant: Any) -> Panel | None:
    if not participant.is_randomized or not user_roles(user) & CASEBOOK_READ_ROLES:
        return None
    meds = list(eligibility_contradictions(participant))
    if not meds:
        return None
    return Panel(title=_("Contradicts eligibility"), template="medications/panel.html", context={"meds": meds}, order=10)
