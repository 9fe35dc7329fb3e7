# The dosing tests use the schedule tests' randomized and screened participants.
from tests.schedule.conftest import randomized, screened  # noqa: F401
