"""A reason for change longer than the project accepts is refused with a specific error and the
change is not made; a reason up to that length is kept whole on every database (the history
tables keep it in a text column, not simple-history's 100 characters)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.services import form_create, form_update
from ecrf.crf.views import ChangeMeta
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
    assert f"at most {REASON_MAX_LENGTH}" in refused.value.message and "reason" in refused.value.fields
    form.refresh_from_db()
    assert form.heart_rate == 80 and VITALS.model.history.count() == history
    # A reason of exactly the limit is kept whole (beyond 100 characters: simple-history's default).
    changed = form_update(actor=users["coordinator"], spec=VITALS, form=form, version=form.version,
                          reason="y" * REASON_MAX_LENGTH, data={"heart_rate": 81})
    assert changed.heart_rate == 81 and changed.history.latest().history_change_reason == "y" * REASON_MAX_LENGTH



def test_every_history_table_keeps_the_reason_in_a_text_column():
    bounded = [m._meta.label for m in apps.get_models()
               if any(f.name == "history_change_reason" for f in m._meta.fields)
               and m._meta.get_field("history_change_reason").get_internal_type() != "TextField"]
    assert REASON_MAX_LENGTH > 100 and bounded == []


def test_the_page_form_states_the_limit_and_refuses_beyond_it():
    form = ChangeMeta(data={"reason": "z" * (REASON_MAX_LENGTH + 1), "expected_version": 1})
    assert f'maxlength="{REASON_MAX_LENGTH}"' in str(form["reason"]) and "1,000" in str(form["reason"].help_text)
    assert not form.is_valid() and "1000" in form.errors["reason"][0]
