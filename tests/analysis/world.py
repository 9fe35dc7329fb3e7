"""A small trial for the analysis tests, built once per module through the project's services
(screening, consent, phenotype, randomization on real allocation slots, first doses), with SOFA
totals, a death, an AE, a lab panel and a vital status stored as submitted forms.

Six participants at site A (Europe/Athens): four dosed (two MALS, two immunoparalysis), one
randomized but never dosed, and one screen failure (phenotype "neither").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.crf.models import EntryStatus, Participant
from ecrf.exports.sections import PackageContext
from ecrf.study.models import Site, Study
from tests.support import stages
from tests.support.times import athens

DAY_ONE = athens(2025, 3, 10, 10, 0)

# participant key -> SOFA totals by day (the endpoint derivation's inputs)
SOFA = {
    "p1": {1: 10, 2: 8, 3: 8, 4: 7, 5: 7, 6: 6, 7: 6, 8: 6, 9: 6},  # responder (10 - 6.75 = 3.25)
    "p2": {1: 8, 2: 8, 4: 7},  # LOCF gaps; 8 - 7.125 = 0.875: non-responder
    "p3": {1: 9, 2: 9, 3: 9},  # dies on day 4: days 4.. count 24
    "p4": {2: 5, 3: 4},  # no day-1 SOFA: not evaluable, a non-responder in the analysis
    "p5": {1: 7},  # randomized, never dosed: outside the mITT
}


@dataclass
class World:
    participants: dict[str, Participant]
    # The package's time: after the world was written, as a lock's is after its data (a package
    # reads each row as it stood then, from the history).
    as_of: dt.datetime

    def context(self, *, blinded: bool, source_id: int = 1, source: str = "lock") -> PackageContext:
        ids = tuple(sorted(p.pk for p in self.participants.values()))
        label = "DSMB interim 1" if source == "cut" else "Final database lock"
        return PackageContext(source=source, source_id=source_id, as_of=self.as_of, blinded=blinded, participant_ids=ids,
                              label=label)


def _store(model: Any, **fields: Any) -> Any:
    row = model(status=EntryStatus.SUBMITTED, **fields)
    row._change_reason = "analysis test setup"
    row.save()
    return row


def build_world() -> World:
    from ecrf.labs.models import LabPanel
    from ecrf.outcomes.models import Death, VitalStatus
    from ecrf.sofa.models import SofaDay
    from ecrf.sofa.services import endpoints_rederive
    from safety.models import AdverseEvent

    Study.objects.create(code="ISEP", title="Biomarker-guided immunotherapy in sepsis", time_zone="Europe/Athens")
    site = Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")
    coordinator, _ = user_create(actor=None, username="an-coordinator", roles=[Role.COORDINATOR], site_codes=["A"])
    lab, _ = user_create(actor=None, username="an-lab", roles=[Role.LAB])
    people: dict[str, Participant] = {}
    for i, (key, phenotype) in enumerate((("p1", "MALS"), ("p2", "immunoparalysis"), ("p3", "MALS"),
                                          ("p4", "immunoparalysis"))):
        people[key] = stages.dosed(site, actor=coordinator, lab_user=lab, at=DAY_ONE + dt.timedelta(hours=i),
                                   phenotype=phenotype)
    people["p5"] = stages.randomized(site, actor=coordinator, lab_user=lab, at=DAY_ONE + dt.timedelta(hours=5))
    people["p6"] = stages.phenotyped(site, actor=coordinator, lab_user=lab, phenotype="neither",
                                     at=DAY_ONE + dt.timedelta(hours=6))
    for key, totals in SOFA.items():
        for day, total in totals.items():
            _store(SofaDay, participant=people[key], day=day, total=total, respiration=min(4, total), coagulation=0,
                   liver=0, cardiovascular=max(0, total - 4), cns=0, renal=0)
    p3 = people["p3"]
    _store(Death, participant=p3, died_at=p3.randomized_at + dt.timedelta(days=3), cause="Septic shock", study_day=4)
    _store(VitalStatus, participant=people["p1"], day=28, vital_status="alive", assessed_on=dt.date(2025, 4, 6))
    _store(AdverseEvent, participant=people["p1"], verbatim_term="Anaemia", onset_date=dt.date(2025, 3, 12), grade=3,
           serious=True, serious_hospitalisation=True, outcome="recovered", action_iv="none", action_sc="interrupted",
           causality_iv="possible", causality_sc="unlikely", aware_at=DAY_ONE + dt.timedelta(days=2), anemia=True,
           hb_nadir_g_dl=Decimal("7.9"), treatment_emergent=True)
    _store(LabPanel, participant=people["p1"], day=2, sample_time=DAY_ONE + dt.timedelta(days=1, hours=-2),
           hemoglobin=Decimal("79"), hemoglobin_unit="g/L", hemoglobin_low=Decimal("120"), hemoglobin_high=Decimal("160"))
    endpoints_rederive(participant_ids=[p.pk for p in people.values()])
    for p in people.values():
        p.refresh_from_db()
    return World(participants=people, as_of=timezone.now().replace(microsecond=0) + dt.timedelta(seconds=1))


@contextlib.contextmanager
def world_in_transaction() -> Iterator[World]:
    """The world inside a transaction that is rolled back at the end (module-scoped fixtures)."""
    with transaction.atomic():
        world = build_world()
        try:
            yield world
        finally:
            transaction.set_rollback(True)
