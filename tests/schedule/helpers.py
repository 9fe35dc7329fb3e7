"""Shared helpers for the schedule, dosing, labs, medications, outcomes and deviations tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ecrf.crf.services import participant_mark_randomized

ATHENS = ZoneInfo("Europe/Athens")


def athens(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ATHENS)


def randomize(participant, at: dt.datetime, actor=None, subject_id: str | None = None):  # noqa: ANN001, ANN201
    return participant_mark_randomized(participant=participant, subject_id=subject_id or f"SUBJ-{participant.pk:04d}",
                                       randomized_at=at, actor=actor)


def iv(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "iv", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 30, "volume_ml": "20", **extra}


def sc(started_at: dt.datetime, dose_number: int, **extra) -> dict:  # noqa: ANN003
    return {"route": "sc", "dose_number": dose_number, "given": True, "started_at": started_at.isoformat(),
            "duration_minutes": 1, "volume_ml": "0.5", **extra}


def screened_and_randomized(site_user, lab_user, site, number: str, *, sepsis3_at: dt.datetime,  # noqa: ANN001, ANN201
                            randomized_at: dt.datetime):
    """A participant screened, consented and eligible through the screening services, with a real
    Sepsis-3 onset, then randomized: the screening selectors (``screening_outcome``,
    ``withdrawal_for``) answer for it as in production."""
    from tests.screening.factories import PHENOTYPE_LABS, consent, lab, screen

    participant = screen(site_user, site, number, sepsis3_at=sepsis3_at).participant
    consent(site_user, participant, at=sepsis3_at + dt.timedelta(hours=1))
    ferritin, hla_dr = PHENOTYPE_LABS["MALS"]
    lab(lab_user, participant, ferritin, hla_dr, sampled_at=sepsis3_at + dt.timedelta(hours=2))
    participant.refresh_from_db()
    return randomize(participant, randomized_at, site_user)


def withdraw(site_user, participant, withdrawal_type: str, on: dt.date):  # noqa: ANN001, ANN201
    """Withdraw the participant's consent (by type, on a date) through the screening service."""
    from ecrf.screening.selectors import consent_for
    from ecrf.screening.services import consent_withdraw

    current = consent_for(participant)
    return consent_withdraw(actor=site_user, consent=current, withdrawal_type=withdrawal_type, withdrawn_on=on,
                            version=current.version, reason="Participant's decision")
