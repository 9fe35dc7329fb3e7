"""The only doors from the safety app to other apps' data.

Safety is a blinded app: it never imports ``ecrf.randomization.models`` or
``ecrf.pharmacy.models``. It learns the possible product from the screening phenotype and
unblinds one potential SUSAR through ``ecrf.randomization.unblinding.reveal_for_susar`` only
(restricted to pharmacovigilance, re-authenticated, audited by that function).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from ecrf.crf.models import Participant
from ecrf.dosing import selectors as dosing
from ecrf.outcomes import selectors as outcomes
from ecrf.randomization import unblinding
from ecrf.screening.selectors import screening_outcome

if TYPE_CHECKING:
    from ecrf.accounts.models import User

# Phenotype -> the active product the participant may have received, and its route
# (reference/trial.md; safety.md "The expedited-reporting decision", step 2).
PRODUCT_BY_PHENOTYPE = {
    "MALS": ("anakinra", "iv"),
    "immunoparalysis": ("interferon-gamma", "sc"),
}


def possible_product(participant: Participant) -> tuple[str, str] | None:
    """(product, route) the participant may have received, from the screening phenotype."""
    outcome = screening_outcome(participant)
    phenotype = getattr(outcome, "phenotype", None) if outcome is not None else None
    return PRODUCT_BY_PHENOTYPE.get(str(phenotype)) if phenotype else None


def reveal_for_susar(*, actor: User, participant: Participant, reason: str, password: str,
                     request: HttpRequest | None = None) -> str:
    """'active' or 'placebo' for this one participant (pharmacovigilance only, audited)."""
    return unblinding.reveal_for_susar(actor=actor, participant=participant, reason=reason, password=password,
                                       request=request)


def first_dose_at(participant: Participant) -> dt.datetime | None:
    return dosing.first_dose_at(participant)


def first_doses(ids: Iterable[int]) -> dict[int, dt.datetime]:
    return dict(dosing.first_doses(list(ids)))


def death_for(participant: Participant) -> Any:
    return outcomes.death_for(participant)
