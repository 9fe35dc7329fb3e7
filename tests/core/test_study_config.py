from __future__ import annotations

import pytest

from ecrf.accounts.roles import Role
from ecrf.audit.models import Event, EventKind
from ecrf.core.errors import DomainError
from ecrf.study.services import current_protocol, study_update

pytestmark = pytest.mark.django_db


def test_protocol_constants_come_from_configuration(study, users):
    assert current_protocol().ferritin_mals_threshold == 4420
    study_update(actor=users[Role.ADMIN], study=study, changes={"protocol_overrides": {"neutrophil_min_per_mm3": 1500}}, version=1)
    assert current_protocol().neutrophil_min_per_mm3 == 1500


def test_live_study_changes_need_a_reason_and_are_audited(study, users):
    admin = users[Role.ADMIN]
    study = study_update(actor=admin, study=study, changes={"is_live": True}, version=1, reason="Go-live")
    with pytest.raises(DomainError) as err:
        study_update(actor=admin, study=study, changes={"title": "New"}, version=2)
    assert err.value.code.value == "reason_required"
    study = study_update(actor=admin, study=study, changes={"title": "New"}, version=2, reason="Protocol amendment 2")
    record = study.history.first()
    assert record.title == "New" and record.history_change_reason == "Protocol amendment 2" and record.history_user == admin
    event = Event.objects.filter(kind=EventKind.STUDY_CONFIG_CHANGE).last()
    assert event.detail["changes"]["title"] == {"old": "Test study", "new": "New"}


def test_bad_protocol_setting_is_refused(study, users):
    with pytest.raises(DomainError, match="Unknown protocol setting"):
        study_update(actor=users[Role.ADMIN], study=study, changes={"protocol_overrides": {"ferritin": 1}}, version=1)
    with pytest.raises(DomainError, match="sponsor_time_zone"):
        study_update(actor=users[Role.ADMIN], study=study, changes={"protocol_overrides": {"sponsor_time_zone": "Mars/Olympus"}}, version=1)
    study.refresh_from_db()
    assert study.version == 1 and study.protocol_overrides == {}


def test_only_administrators_change_the_study(study, users):
    with pytest.raises(DomainError) as err:
        study_update(actor=users[Role.DATA_MANAGER], study=study, changes={"title": "x"}, version=1)
    assert err.value.status == 403


def test_stale_study_update_is_409(study, users):
    study_update(actor=users[Role.ADMIN], study=study, changes={"title": "A"}, version=1)
    with pytest.raises(DomainError) as err:
        study_update(actor=users[Role.ADMIN], study=study, changes={"title": "B"}, version=1)
    assert err.value.status == 409
