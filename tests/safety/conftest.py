"""Safety fixtures: the demonstration dictionary, a phenotype for the possible product, and
helpers that enter adverse events through the form services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from safety import links
from safety.meddra import ensure_demo_dictionary
from safety.specs import AE_SPEC



@pytest.fixture
def meddra(db):
    ensure_demo_dictionary()


@pytest.fixture
def phenotype(monkeypatch):
    """Every participant is MALS (anakinra, IV) unless a test sets another."""
    state = {"value": ("anakinra", "iv")}
    monkeypatch.setattr(links, "possible_product", lambda participant: state["value"])
    return state


@pytest.fixture
def arm(monkeypatch):
    """The single-case unblinding answer (stands in for ecrf.randomization.unblinding)."""
    state = {"value": "active", "calls": []}

    def reveal(*, actor, participant, reason, password, request=None):  # noqa: ANN001, ANN202
        from tests.conftest import PASSWORD

        if Role.PHARMACOVIGILANCE not in {g.name for g in actor.groups.all()}:
            from ecrf.core.errors import DomainError, ErrorCode

            raise DomainError(ErrorCode.FORBIDDEN, "Only pharmacovigilance unblinds a potential SUSAR.")
        if password != PASSWORD:
            from ecrf.core.errors import DomainError, ErrorCode

            raise DomainError(ErrorCode.REAUTH_FAILED, "Re-enter your password.", fields={"password": "Incorrect password."})
        state["calls"].append((actor.pk, participant.pk, reason))
        return state["value"]

    monkeypatch.setattr(links, "reveal_for_susar", reveal)
    return state


def ae_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "verbatim_term": "Rash on trunk", "llt_code": 94000011, "onset_date": dt.date(2025, 6, 1),
        "grade": 2, "outcome": "recovering", "aware_at": dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC),
        "causality_iv": "possible", "causality_sc": "unlikely",
    }
    data.update(overrides)
    return data


SERIOUS = {"serious": True, "serious_hospitalisation": True, "grade": 3, "verbatim_term": "Melaena",
           "llt_code": 94000004, "bleeding": True, "bleeding_site": "upper GI", "bleeding_severity": "major"}


@pytest.fixture
def make_ae(users, meddra, participant_a):
    def make(participant=None, submit: bool = True, actor=None, **overrides):  # noqa: ANN001, ANN202
        return form_create(actor=actor or users[Role.INVESTIGATOR], spec=AE_SPEC, participant=participant or participant_a,
                           data=ae_data(**overrides), submit=submit)

    return make
