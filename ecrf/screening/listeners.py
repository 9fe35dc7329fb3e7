"""What a screening-form write means (ecrf.crf.listeners): eligibility and phenotype are
re-assessed when consent or the central lab changes; a correction after randomization is
recorded for the data team."""

from __future__ import annotations

from ecrf.crf.listeners import Write, on_written
from ecrf.screening import services


@on_written("screening.screening")
def screening_written(write: Write) -> None:
    if write.instance.phenotype_fixed_at is not None:
        services.check_post_randomization_correction(screening=write.instance, actor=write.actor, cause="screening form")


@on_written("screening.consent")
def consent_written(write: Write) -> None:
    services.screening_reassess(participant=write.instance.participant, actor=write.actor, cause="consent")


@on_written("screening.central_lab")
def central_lab_written(write: Write) -> None:
    services.screening_reassess(participant=write.instance.participant, actor=write.actor, cause="central-lab result")
