from __future__ import annotations

import pytest

# The allocation fixture lives in tests/support/fixtures.py (loaded for every directory); this
# name stays importable for test modules that still import it from here.
from tests.support.fixtures import allocation  # noqa: F401


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Tasks enqueued on commit (notification delivery, the safety-contact mail) are not sent to
    a broker in these tests; their services are tested directly."""
    from ecrf.notifications import tasks as note_tasks
    from ecrf.randomization import tasks

    monkeypatch.setattr(note_tasks.deliver_pending, "delay", lambda *a, **k: None)
    monkeypatch.setattr(tasks.notify_safety_contact, "delay", lambda *a, **k: None)
