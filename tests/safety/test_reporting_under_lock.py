"""Expedited reporting goes on after database lock (CTR Art. 41-42, ICH E2A; ARCHITECTURE.md
"Status is several things", the write guard): a serious event reported before the lock is still
assessed, unblinded case by case, decided and reported to the authority, and its clocks run,
while the AE itself, the eCRF data, cannot change (tests/crf/test_write_guard_everywhere.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.models import LockScope
from ecrf.crf.services import form_update
from ecrf.core.errors import DomainError, ErrorCode
from safety.clocks import ClockKind
from safety.models import AdverseEvent, CaseStatus, Clock, PvClock, PvOutcome, PvSubmission
from safety.services import assessment_record, susar_unblind_and_decide
from safety.specs import AE_SPEC
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db


def test_a_susar_reported_before_the_lock_is_assessed_decided_and_reported_after_it(make_ae, users, randomize):
    pv, officer = users[Role.PHARMACOVIGILANCE], users[Role.SAFETY_OFFICER]
    ae = make_ae(participant=randomize("MALS", arm="active"), **SERIOUS)
    LockScope.objects.create(level="study", kind="lock", reason="database lock")
    ae_state = (ae.version, ae.history.count())

    case = assessment_record(actor=officer, ae=ae, expected=False, rsi_reference="IB anakinra v3",
                             sponsor_aware_at=ae.aware_at + dt.timedelta(hours=2))
    assert case.status == CaseStatus.POTENTIAL_SUSAR
    assert Clock.objects.filter(adverse_event=ae, kind=ClockKind.SUSAR_OTHER, met_at__isnull=True).exists()
    case = susar_unblind_and_decide(actor=pv, assessment=case, reason="Potential SUSAR", password=PASSWORD)
    assert case.pv_outcome == PvOutcome.SUSAR
    pv_clock = PvClock.objects.get(adverse_event=ae)
    # The authority report, through pharmacovigilance's page, meets the clock under the lock.
    client = Client()
    client.force_login(pv)
    sent = (case.sponsor_aware_at + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/safety/cases/{case.pk}/", {"step": "report", "clock": pv_clock.pk, "submitted_at": sent,
                                                         "recipient": "EMA EudraVigilance", "reference": "EU-SUSAR-L"})
    assert response.status_code == 302, response.content.decode()
    pv_clock.refresh_from_db()
    assert pv_clock.met_at is not None and PvSubmission.objects.get().reference == "EU-SUSAR-L"

    # Meanwhile the clinical record of the event stays as it was locked.
    current = AdverseEvent.objects.get(pk=ae.pk)
    assert (current.version, current.history.count()) == ae_state
    with pytest.raises(DomainError) as info:
        form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=current, version=current.version,
                    reason="new information", data={"grade": 4})
    assert info.value.code == ErrorCode.LOCKED
