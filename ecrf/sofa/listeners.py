"""What a write elsewhere means for SOFA and the endpoints (ecrf.crf.listeners).

The stored SOFA days and endpoints are derived from their inputs (invariant 8): a SOFA day's
change re-scores the later days that carried its values forward; a SOFA day, a death or a dose
re-derives the participant's endpoints after the commit (the derivation reads those apps through
their selectors). A randomization creates the participant's endpoint record at once, in its own
transaction: every randomized participant has one from then on."""

from __future__ import annotations

from ecrf.crf.listeners import PARTICIPANT_RANDOMIZED, Write, on_written
from ecrf.sofa import services


@on_written("sofa.sofa_day")
def sofa_day_written(write: Write) -> None:
    services.sofa_days_rescore_after(form=write.instance, actor=write.actor)
    services.endpoints_schedule(participant_id=write.instance.participant_id)


@on_written("outcomes.death")
@on_written("dosing.administration")
def endpoint_input_written(write: Write) -> None:
    services.endpoints_schedule(participant_id=write.instance.participant_id)


@on_written(PARTICIPANT_RANDOMIZED)
def participant_randomized(write: Write) -> None:
    """Derive the endpoint record inside the randomization's transaction, not after its commit:
    the record then exists exactly when the randomization does (no task to lose or to wait for),
    and starts as mITT false "no dose of study drug received yet" and not evaluable "no day-1
    SOFA" until those inputs are submitted. The participant row is already locked by the
    randomization (the lock order's first lock), so this adds no new lock order."""
    services.endpoint_derive(participant_id=write.instance.pk, actor=write.actor)
