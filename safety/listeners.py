"""What a write means for safety (ecrf.crf.listeners): an AE's change follows through to its
SAE report, clocks and adjudication; a Death form's change re-derives the AEs' soft check
against it."""

from __future__ import annotations

from ecrf.crf.listeners import Write, on_written
from safety import services


@on_written("safety.adverse_event")
def adverse_event_written(write: Write) -> None:
    services.adverse_event_changed(ae=write.instance, actor=write.actor)


@on_written("outcomes.death")
def death_written(write: Write) -> None:
    services.ae_death_recheck(participant=write.instance.participant, actor=write.actor)
