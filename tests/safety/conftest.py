"""Safety fixtures: the demonstration dictionary, participants screened and randomized through
the real services (the real allocation list: the possible product comes from the real screening
phenotype, the single-case unblinding from the real assignment), and helpers that enter adverse
events through the form services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from safety.meddra import ensure_demo_dictionary
from safety.specs import AE_SPEC
from tests.support.screening import eligible_participant


@pytest.fixture
def meddra(db):
    ensure_demo_dictionary()


@pytest.fixture
def randomize(users, site_a):
    """``randomize(phenotype="MALS", arm=None)``: a participant of site A screened eligible with
    that phenotype and randomized from the real allocation list; with ``arm``, the first one the
    list assigns to that arm (the tests read the assignment, as the trial's statistician may)."""
    allocation_list_generate(actor=users[Role.STATISTICIAN], seed="safety-tests", slots_per_stratum=12)
    numbers = itertools.count(1)

    def make(phenotype: str = "MALS", arm: str | None = None) -> Any:
        author = users[Role.COORDINATOR]
        for _ in range(12):
            p = eligible_participant(author, users[Role.LAB], site_a, f"A-R{next(numbers):03d}", phenotype)
            participant_randomize(actor=author, participant=p)
            p.refresh_from_db()
            if arm is None or Assignment.objects.get(participant_id=p.pk).slot.arm == arm:
                return p
        raise AssertionError(f"the allocation list gave no {arm} slot")

    return make


@pytest.fixture
def mals(randomize):
    """A randomized MALS participant (possible product: anakinra, IV)."""
    return randomize("MALS")


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
