"""The screening outcome on the participant page (ecrf.crf.panels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ecrf.accounts.roles import user_roles
from ecrf.crf.panels import Panel, register_panel
from ecrf.screening.eligibility import reason_label
from ecrf.screening.selectors import (
    SCREENING_LOG_ROLES,
    consent_for,
    lab_result_for,
    screening_for,
    withdrawal_for,
)


@register_panel
def screening_panel(user: Any, participant: Any) -> Panel | None:
    if not user_roles(user) & SCREENING_LOG_ROLES:
        return None
    screening = screening_for(participant)
    return Panel(
        title=_("Screening outcome"),
        template="screening/panel.html",
        order=10,
        context={
            "participant": participant,
            "screening": screening,
            "reasons": [reason_label(c) for c in (screening.ineligibility_reasons if screening else [])],
            "consent": consent_for(participant),
            "lab": lab_result_for(participant),
            "withdrawal": withdrawal_for(participant),
        },
    )
