"""The only doors from the safety app to other apps' data (contracts of issues 3-4 and 5).

Safety is a blinded app: it never imports ``ecrf.randomization.models`` or
``ecrf.pharmacy.models``. It learns the possible product from the screening phenotype and
unblinds one potential SUSAR through ``ecrf.randomization.unblinding.reveal_for_susar`` only
(restricted to pharmacovigilance, re-authenticated, audited by that function).
Imports are lazy so that the safety app works (and is tested) while those apps are built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ecrf.core.errors import DomainError, ErrorCode

# Phenotype -> the active product the participant may have received, and its route
# (reference/trial.md; safety.md "The expedited-reporting decision", step 2).
PRODUCT_BY_PHENOTYPE = {
    "MALS": ("anakinra", "iv"),
    "immunoparalysis": ("interferon-gamma", "sc"),
}


def possible_product(participant: Any) -> tuple[str, str] | None:
    """(product, route) the participant may have received, from the screening phenotype."""
    try:
        from ecrf.screening.selectors import screening_outcome
    except ImportError:
        return None
    outcome = screening_outcome(participant)
    phenotype = getattr(outcome, "phenotype", None) if outcome is not None else None
    return PRODUCT_BY_PHENOTYPE.get(str(phenotype)) if phenotype else None


def reveal_for_susar(*, actor: Any, participant: Any, reason: str, password: str, request: Any = None) -> str:
    """'active' or 'placebo' for this one participant (pharmacovigilance only, audited)."""
    try:
        from ecrf.randomization.unblinding import reveal_for_susar as reveal
    except ImportError:
        raise DomainError(ErrorCode.STATE_CONFLICT, "Single-case unblinding is not available yet in this installation.") from None
    return reveal(actor=actor, participant=participant, reason=reason, password=password, request=request)


def first_dose_at(participant: Any) -> dt.datetime | None:
    try:
        from ecrf.dosing.selectors import first_dose_at as fd
    except ImportError:
        return None
    return fd(participant)


def first_doses(ids: Iterable[int]) -> dict[int, dt.datetime]:
    try:
        from ecrf.dosing.selectors import first_doses as fds
    except ImportError:
        return {}
    return dict(fds(list(ids)))


def death_for(participant: Any) -> Any:
    try:
        from ecrf.outcomes.selectors import death_for as df
    except ImportError:
        return None
    return df(participant)
