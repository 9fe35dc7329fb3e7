"""What a write elsewhere means for SOFA and the endpoints (ecrf.crf.listeners).

The stored SOFA days and endpoints are derived from their inputs (invariant 8): a SOFA day's
change re-scores the later days that carried its values forward; a SOFA day, a death or a dose
re-derives the participant's endpoints after the commit (the derivation reads those apps through
their selectors)."""

from __future__ import annotations

from ecrf.crf.listeners import Write, on_written
from ecrf.sofa import services


@on_written("sofa.sofa_day")
def sofa_day_written(write: Write) -> None:
    services.sofa_days_rescore_after(form=write.instance, actor=write.actor)
    services.endpoints_schedule(participant_id=write.instance.participant_id)


@on_written("outcomes.death")
@on_written("dosing.administration")
def endpoint_input_written(write: Write) -> None:
    services.endpoints_schedule(participant_id=write.instance.participant_id)
