"""System-raised deviations (late first dose, missed doses). Entry by people goes through the
generic form services with ``ecrf.deviations.specs.DEVIATION``."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from ecrf.crf.guard import assert_writable
from ecrf.crf.models import EntryStatus, Participant
from ecrf.deviations.models import Deviation, FoundBy, Impact


@transaction.atomic
def deviation_raise_system(*, participant: Participant, rule_code: str, category: str, description: str,
                           occurred_on: dt.date, impact: str = Impact.MINOR) -> Deviation:
    """Record a deviation the system can see; idempotent per (participant, rule_code).

    Safe against a concurrent raise of the same rule (the periodic missed-dose sweep and a dose
    recorded as not given at the same moment): the unique constraint decides, the loser returns
    the winner's record."""
    existing = Deviation.objects.filter(participant=participant, rule_code=rule_code).first()
    if existing is not None:
        return existing
    assert_writable(participant=participant)
    now = timezone.now()
    deviation = Deviation(participant=participant, category=category, description=description,
                          occurred_on=occurred_on, found_by=FoundBy.SYSTEM, impact=impact, rule_code=rule_code,
                          status=EntryStatus.SUBMITTED, submitted_at=now, created_at=now, updated_at=now)
    deviation.full_clean(exclude=["participant", "created_by", "updated_by"])
    deviation._history_user = None
    deviation._change_reason = f"Raised by the system rule {rule_code}"
    try:
        with transaction.atomic():
            deviation.save()
    except IntegrityError:
        return Deviation.objects.get(participant=participant, rule_code=rule_code)
    return deviation
