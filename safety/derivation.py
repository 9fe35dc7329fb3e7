"""The AE form's validation and derivation: gathers the facts the pure rules (safety.rules)
need — the MedDRA coding, the recorded death, the first dose, the protocol — and applies them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from ecrf.crf.models import Participant
from ecrf.study.services import current_protocol
from safety import links, rules
from safety.meddra import coding_for
from safety.models import AdverseEvent


def death_date(participant: Participant) -> dt.date | None:
    """The date of the participant's recorded (submitted) death in the site's zone, or None."""
    death = links.death_for(participant)
    if death is None or getattr(death, "died_at", None) is None:
        return None
    return death.died_at.astimezone(ZoneInfo(participant.site.time_zone)).date()


def ae_errors(ae: AdverseEvent) -> dict[str, str]:
    died = death_date(ae.participant) if ae.participant_id else None
    coding = coding_for(ae.llt_code) if ae.llt_code is not None else None
    return rules.ae_errors(ae, today=timezone.localdate(), now=timezone.now(), coding=coding, died=died)


def ae_derive(ae: AdverseEvent) -> None:
    """The server-derived fields (invariant 8): relatedness, coding, exemption, the check
    against the Death form and treatment emergence."""
    protocol = current_protocol()
    derived = rules.derived_coding(causality_iv=ae.causality_iv, causality_sc=ae.causality_sc,
                                   coding=coding_for(ae.llt_code), exempt_pt_codes=protocol.sae_exempt_pt_codes)
    for name, value in vars(derived).items():
        setattr(ae, name, value)
    ae.death_check = rules.death_check(status=ae.status, grade=ae.grade, outcome=ae.outcome, onset_date=ae.onset_date,
                                       died=death_date(ae.participant))
    first = links.first_dose_at(ae.participant)
    first_date = first.astimezone(ZoneInfo(ae.participant.site.time_zone)).date() if first is not None else None
    ae.treatment_emergent = rules.treatment_emergent(ae.onset_date, first_date, protocol.safety_window_days)


def ae_next_page(ae: AdverseEvent) -> str | None:
    """A saved serious AE leads to its own page, where its SAE report and 24-hour clock are; a
    non-serious one to the form."""
    return reverse("safety:ae-detail", kwargs={"pk": ae.pk}) if ae.serious and ae.status == "submitted" else None
