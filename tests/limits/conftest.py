"""Fixtures of the bad-input tests: a randomized participant and the demonstration MedDRA."""

from __future__ import annotations

import pytest

from tests.schedule.helpers import athens, randomize

# The AE fixtures of the safety tests (the demonstration dictionary).
from tests.safety.conftest import meddra  # noqa: F401


@pytest.fixture
def randomized(make_participant, site_a, coordinator):
    """A site-A participant randomized on 2025-03-10 at 10:00 Athens time (day 1)."""
    return randomize(make_participant(site_a), athens(2025, 3, 10, 10, 0), coordinator)
