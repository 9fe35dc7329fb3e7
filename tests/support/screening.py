"""Screening, consent and central-lab entry through the services, as a site would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ecrf.crf.services import form_create
from ecrf.screening.models import EXCLUSION_COLUMNS
from ecrf.screening.services import screening_register
from ecrf.screening.specs import CENTRAL_LAB, CONSENT

# Ferritin and HLA-DR giving each phenotype (trial.md "Immune phenotype").
PHENOTYPE_LABS = {"MALS": (Decimal(6200), 9000), "immunoparalysis": (Decimal(800), 2400),
                  "neither": (Decimal(900), 12000)}


def screening_data(*, sepsis3_at: dt.datetime | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sepsis3_at": sepsis3_at or timezone.now() - dt.timedelta(hours=3),
        "admission_route": "emergency_department",
        "sofa_score_or_rise": 6,
        "age": 64,
        "sex": "female",
        "infection_source": "CAP",
        "covid19": False,
        "neutrophils_per_mm3": 9000,
        "corticosteroid_mg_per_day": Decimal(0),
        **{column: False for column in EXCLUSION_COLUMNS.values()},
    }
    data.update(overrides)
    return data


def screen(actor: Any, site: Any, number: str, *, submit: bool = True, **overrides: Any) -> Any:
    return screening_register(actor=actor, site=site, screening_number=number, data=screening_data(**overrides),
                              submit=submit)


def consent(actor: Any, participant: Any, *, at: dt.datetime | None = None, by: str = "patient",
            submit: bool = True, **overrides: Any) -> Any:
    data = {"consent_by": by, "representative_relation": "spouse" if by == "representative" else "",
            "decision": "given", "form_version": "v1.0", "consented_at": at or timezone.now() - dt.timedelta(hours=2)}
    data.update(overrides)
    return form_create(actor=actor, spec=CONSENT, participant=participant, data=data, submit=submit)


def lab(lab_user: Any, participant: Any, ferritin: Decimal | None, hla_dr: int | None, *,
        sampled_at: dt.datetime | None = None, submit: bool = True) -> Any:
    sampled_at = sampled_at or timezone.now() - dt.timedelta(minutes=90)
    resulted_at = sampled_at + dt.timedelta(minutes=30)
    data: dict[str, Any] = {}
    if ferritin is not None:
        data.update(ferritin=ferritin, ferritin_sampled_at=sampled_at, ferritin_resulted_at=resulted_at)
    if hla_dr is not None:
        data.update(hla_dr=hla_dr, hla_dr_sampled_at=sampled_at, hla_dr_resulted_at=resulted_at)
    return form_create(actor=lab_user, spec=CENTRAL_LAB, participant=participant, data=data, submit=submit)


def eligible_participant(site_user: Any, lab_user: Any, site: Any, number: str, phenotype: str = "MALS",
                         **overrides: Any) -> Any:
    """A screened, consented, eligible participant (all three forms submitted)."""
    form = screen(site_user, site, number, **overrides)
    participant = form.participant
    consent(site_user, participant)
    ferritin, hla_dr = PHENOTYPE_LABS[phenotype]
    lab(lab_user, participant, ferritin, hla_dr)
    participant.refresh_from_db()
    return participant


def withdraw(site_user: Any, participant: Any, withdrawal_type: str, on: dt.date) -> Any:
    """Withdraw the participant's consent (by type, on a date) through the screening service."""
    from ecrf.screening.selectors import consent_for
    from ecrf.screening.services import consent_withdraw

    current = consent_for(participant)
    return consent_withdraw(actor=site_user, consent=current, withdrawal_type=withdrawal_type, withdrawn_on=on,
                            version=current.version, reason="Participant's decision")
