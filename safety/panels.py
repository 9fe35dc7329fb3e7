"""Open SAE reporting clocks as an alert on the participant page (ecrf.crf.panels)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ecrf.accounts.roles import user_roles
from ecrf.crf.panels import HeaderItem, register_header
from safety.models import Clock, ClockVisibility
from safety.selectors import AE_SPEC


@register_header
def safety_header(user: Any, participant: Any) -> list[HeaderItem]:
    # Only clocks every safety reader sees with their real state: whether a SUSAR clock is still
    # running would tell its outcome, and so the arm (ARCHITECTURE.md invariant 6).
    if not user_roles(user) & AE_SPEC.read_roles:
        return []
    running = Clock.objects.filter(adverse_event__participant_id=participant.pk, visibility=ClockVisibility.OPEN,
                                   met_at__isnull=True, closed_at__isnull=True).count()
    if not running:
        return []
    return [HeaderItem(_("SAE reporting"), ngettext("%(n)d reporting clock running", "%(n)d reporting clocks running",
                                                    running) % {"n": running},
                       alert=True, level="danger", url=reverse("safety:ae-list") + "?serious=1", order=20)]
