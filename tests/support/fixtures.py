"""Fixtures on the trial stages, for every test directory (loaded by ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.randomization.services import allocation_list_generate
from tests.support import stages
from tests.support.times import athens

# Day 1 of the shared participants: randomized on 2025-03-10 at 10:00 in site A's zone, Sepsis-3
# 24 hours before.
DAY_ONE = athens(2025, 3, 10, 10, 0)


@pytest.fixture
def allocation(users, site_a, site_b):
    """A generated allocation list for sites A and B x both phenotypes (seed "test-seed")."""
    return allocation_list_generate(actor=users[Role.STATISTICIAN], seed="test-seed", slots_per_stratum=40)


@pytest.fixture
def randomized(users, coordinator, site_a):
    """A site-A participant screened, consented, phenotyped (MALS) and randomized through the
    services on 2025-03-10 at 10:00 Athens time (day 1), with a real allocation slot."""
    return stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=DAY_ONE)


@pytest.fixture
def screened(users, coordinator, site_a):
    """Like ``randomized``, under screening number SCR-5001: for the tests that read the
    screening data back (Sepsis-3 on 2025-03-09 10:00 Athens, consent, withdrawal)."""
    return stages.randomized(site_a, actor=coordinator, lab_user=users[Role.LAB], at=DAY_ONE, number="SCR-5001")


@pytest.fixture
def make_randomized(users, coordinator, site_a):
    """``make_randomized(at, site=site_a, actor=coordinator, phenotype="MALS", ...)``: another
    participant randomized through the services (see ``tests.support.stages.randomized``)."""

    def make(at=None, *, site=None, actor=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        return stages.randomized(site or site_a, actor=actor or coordinator, lab_user=users[Role.LAB], at=at, **kwargs)

    return make
