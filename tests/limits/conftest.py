"""Fixtures of the bad-input tests: a randomized participant and the demonstration MedDRA."""

from __future__ import annotations



# The AE fixtures of the safety tests (the demonstration dictionary).
from tests.safety.conftest import meddra  # noqa: F401


