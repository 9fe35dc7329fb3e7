"""A reason for change longer than the audit trail keeps is refused with a specific error, and
the change is not made (on PostgreSQL the database would refuse the history row with a bare
error; on SQLite it would keep it whole)."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.services import form_create, form_update
from tests.testapp.specs import VITALS

pytestmark = pytest.mark.django_db


def test_a_reason_longer_than_the_trail_keeps_is_refused_and_nothing_changes(users, participant_a):
    form = form_create(actor=users["coordinator"], spec=VITALS, participant=participant_a, submit=True,
                       data={"measured_on": dt.date(2026, 11, 1), "temperature": 37, "heart_rate": 80})
    history = VITALS.model.history.count()
    with pytest.raises(DomainError) as refused:
        form_update(actor=users["coordinator"], spec=VITALS, form=form, version=form.version,
                    reason="x" * (REASON_MAX_LENGTH + 1), data={"heart_rate": 81})
    assert refused.value.code == ErrorCode.INVALID and refused.value.status == 400
    assert "at most 100" in refused.value.message and "reason" in refused.value.fields
    form.refresh_from_db()
    assert form.heart_rate == 80 and VITALS.model.history.count() == history
    # A reason of exactly the length the trail keeps is kept whole.
    changed = form_update(actor=users["coordinator"], spec=VITALS, form=form, version=form.version,
                          reason="y" * REASON_MAX_LENGTH, data={"heart_rate": 81})
    assert changed.heart_rate == 81 and changed.history.latest().history_change_reason == "y" * REASON_MAX_LENGTH
