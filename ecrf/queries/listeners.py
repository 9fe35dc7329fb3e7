"""The edit checks run again for a participant after any of its forms is written
(ecrf.crf.listeners ``ANY_FORM``): after the commit, in a worker, never inside the request."""

from __future__ import annotations

from ecrf.crf.listeners import ANY_FORM, Write, on_written
from ecrf.queries import services


@on_written(ANY_FORM)
def form_written(write: Write) -> None:
    if write.participant_id is not None:
        services.checks_schedule(participant_id=write.participant_id)
