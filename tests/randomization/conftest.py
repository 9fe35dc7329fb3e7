from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.randomization.services import allocation_list_generate


@pytest.fixture
def allocation(users, site_a, site_b):
    """A generated list for sites A and B x both phenotypes."""
    return allocation_list_generate(actor=users[Role.STATISTICIAN], seed="test-seed", slots_per_stratum=40)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Tasks enqueued on commit (notification delivery, the safety-contact mail) are not sent to
    a broker in these tests; their services are tested directly."""
    from ecrf.notifications import tasks as note_tasks
    from ecrf.randomization import tasks

    monkeypatch.setattr(note_tasks.deliver_pending, "delay", lambda *a, **k: None)
    monkeypatch.setattr(tasks.notify_safety_contact, "delay", lambda *a, **k: None)
