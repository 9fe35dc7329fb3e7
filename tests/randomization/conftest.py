from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.randomization.services import allocation_list_generate


@pytest.fixture
def allocation(users, site_a, site_b):
    """A generated list for sites A and B x both phenotypes."""
    return allocation_list_generate(actor=users[Role.STATISTICIAN], seed="test-seed", slots_per_stratum=40)
