import pytest

from ecrf.accounts.roles import Role
from tests.schedule.helpers import athens, randomize, screened_and_randomized


@pytest.fixture
def randomized(make_participant, site_a, coordinator):
    """A site-A participant randomized on 2025-03-10 at 10:00 Athens time (day 1)."""
    return randomize(make_participant(site_a), athens(2025, 3, 10, 10, 0), coordinator)


@pytest.fixture
def screened(users, coordinator, site_a):
    """Screened through the screening services (Sepsis-3 on 2025-03-09 10:00 Athens), consented,
    eligible, then randomized on 2025-03-10 at 10:00 (day 1): real withdrawal and Sepsis-3 data."""
    return screened_and_randomized(coordinator, users[Role.LAB], site_a, "SCR-5001",
                                   sepsis3_at=athens(2025, 3, 9, 10, 0), randomized_at=athens(2025, 3, 10, 10, 0))
