"""The screening outcome on the participant page (ecrf.crf.panels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ecrf.accounts.roles import user_roles
from ecrf.crf.panels import HeaderItem, Panel, register_header, register_panel
from ecrf.screening.eligibility import reason_label
from ecrf.screening.selectors import (
    SCREENING_LOG_ROLES,
    consent_for,
    lab_result_for,
    screening_for,
    withdrawal_of,
)


@register_panel
def screening_panel(user: Any, participant: Any) -> Panel | None:
    if not user_roles(user) & SCREENING_LOG_ROLES:
        return None
    screening = screening_for(participant)
    consent = consent_for(participant)
    return Panel(
        title=_("Screening outcome"),
        template="screening/panel.html",
        order=10,
        context={
            "participant": participant,
            "screening": screening,
            "reasons": [reason_label(c) for c in (screening.ineligibility_reasons if screening else [])],
            "consent": consent,
            "lab": lab_result_for(participant),
            "withdrawal": withdrawal_of(consent),
        },
    )


@register_header
def screening_header(user: Any, participant: Any) -> list[HeaderItem]:
    """The phenotype (the stratum, fixed at randomization) and a withdrawal of consent."""
    items: list[HeaderItem] = []
    screening = screening_for(participant)
    if screening is not None and screening.phenotype:
        items.append(HeaderItem(_("Phenotype"), screening.get_phenotype_display(), order=20))
    consent = consent_for(participant)
    if withdrawal_of(consent) is not None:
        items.append(HeaderItem(_("Withdrawn"), _("%(type)s, %(date)s") % {
            "type": consent.get_withdrawal_type_display(), "date": consent.withdrawn_on.isoformat()},
            alert=True, level="danger", order=10))
    return items
