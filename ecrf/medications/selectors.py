from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ecrf.crf.models import EntryStatus
from ecrf.medications.models import ConcomitantMedication


def eligibility_contradictions(participant: Any) -> QuerySet[ConcomitantMedication]:
    """Corticosteroids over the configured dose at screening: shown as contradicting eligibility."""
    return ConcomitantMedication.objects.filter(participant_id=participant.pk, contradicts_eligibility=True).exclude(
        status=EntryStatus.RETRACTED)
