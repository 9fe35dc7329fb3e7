"""A participant at each stage of the trial, built through the project's own services.

Each stage builds on the one before: ``screened`` (the screening form submitted), ``consented``,
``phenotyped`` (central-lab ferritin and HLA-DR giving the phenotype asked for), ``randomized``
(a real slot of the stratum's allocation list, an ``Assignment``, the subject ID), ``dosed``
(the first IV and SC administrations given). Nothing is set by hand: the selectors, the
randomization gate and the history answer for these participants as in production.

``at`` is the randomization time. Given, the whole stage is entered with the clock set to it
(``time_machine``), so that "can't be in the future" rules and the 72-hour gate hold for a fixed
date such as ``athens(2025, 3, 10, 10, 0)``; Sepsis-3 is then 24 hours earlier unless given.
Without ``at`` everything happens now, Sepsis-3 three hours ago.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import time_machine
from django.utils import timezone

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.randomization.models import Stratum
from ecrf.randomization.services import _key, all_strata, allocation_list_generate, participant_randomize
from ecrf.study.services import current_protocol
from tests.support.screening import PHENOTYPE_LABS, consent, lab, screen
from tests.support.times import iv, sc

SLOTS_PER_STRATUM = 10
_numbers = itertools.count(1)


@contextlib.contextmanager
def clock(at: dt.datetime | None) -> Iterator[None]:
    """Run the block with the server clock stopped at ``at``, or unchanged for ``None``. Stopped,
    not ticking: a gate checked at ``at`` (72 hours from Sepsis-3, say) gives the same answer on
    every run."""
    if at is None:
        yield
        return
    with time_machine.travel(at, tick=False):
        yield


def _times(at: dt.datetime | None, sepsis3_at: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """(the time the stage is entered, Sepsis-3 onset)."""
    entered = at or timezone.now()
    return entered, sepsis3_at or entered - (dt.timedelta(hours=24) if at else dt.timedelta(hours=3))


def _number(site: Any) -> str:
    return f"SCR-{site.code}{next(_numbers):05d}"


def screened(site: Any, *, actor: Any, number: str | None = None, at: dt.datetime | None = None,
             sepsis3_at: dt.datetime | None = None, **overrides: Any) -> Participant:
    """A participant whose screening form is submitted (no consent yet)."""
    entered, onset = _times(at, sepsis3_at)
    with clock(at):
        form = screen(actor, site, number or _number(site), sepsis3_at=onset, **overrides)
    participant = form.participant
    participant.refresh_from_db()
    return participant


def consented(site: Any, *, actor: Any, number: str | None = None, at: dt.datetime | None = None,
              sepsis3_at: dt.datetime | None = None, **overrides: Any) -> Participant:
    """Screened, then consent given (by the patient) one hour after Sepsis-3."""
    entered, onset = _times(at, sepsis3_at)
    participant = screened(site, actor=actor, number=number, at=at, sepsis3_at=onset, **overrides)
    with clock(at):
        consent(actor, participant, at=min(onset + dt.timedelta(hours=1), entered))
    participant.refresh_from_db()
    return participant


def phenotyped(site: Any, *, actor: Any, lab_user: Any, phenotype: str = "MALS", number: str | None = None,
               at: dt.datetime | None = None, sepsis3_at: dt.datetime | None = None,
               **overrides: Any) -> Participant:
    """Consented, then the central lab's ferritin and HLA-DR giving ``phenotype`` ("MALS",
    "immunoparalysis" or "neither"), sampled 90 minutes after Sepsis-3 (resulted 30 minutes later)."""
    entered, onset = _times(at, sepsis3_at)
    participant = consented(site, actor=actor, number=number, at=at, sepsis3_at=onset, **overrides)
    ferritin, hla_dr = PHENOTYPE_LABS[phenotype]
    with clock(at):
        lab(lab_user, participant, ferritin, hla_dr,
            sampled_at=min(onset + dt.timedelta(minutes=90), entered - dt.timedelta(minutes=30)))
    participant.refresh_from_db()
    return participant


def _statistician() -> Any:
    from ecrf.accounts.models import User

    existing = User.objects.filter(username="support-statistician").first()
    if existing is not None:
        return existing
    user, _ = user_create(actor=None, username="support-statistician", roles=[Role.STATISTICIAN])
    return user


def allocation_lists() -> None:
    """Generate the allocation list of every stratum that has none yet (active sites x
    phenotypes), as the statistician would: once per test, since each test rolls back."""
    protocol = current_protocol()
    known = set(Stratum.objects.values_list("key", flat=True))
    missing = [s for s in all_strata(protocol) if _key(s) not in known]
    if missing:
        allocation_list_generate(actor=_statistician(), seed="tests-support", slots_per_stratum=SLOTS_PER_STRATUM,
                                 strata=missing)


def randomized(site: Any, *, actor: Any, lab_user: Any, at: dt.datetime | None = None, phenotype: str = "MALS",
               number: str | None = None, sepsis3_at: dt.datetime | None = None,
               **overrides: Any) -> Participant:
    """Phenotyped, then randomized through ``participant_randomize`` at ``at`` (default now): the
    next slot of the stratum's list is assigned and the subject ID given."""
    participant = phenotyped(site, actor=actor, lab_user=lab_user, phenotype=phenotype, number=number, at=at,
                             sepsis3_at=sepsis3_at, **overrides)
    allocation_lists()
    with clock(at):
        participant_randomize(actor=actor, participant=participant)
    participant.refresh_from_db()
    return participant


def dosed(site: Any, *, actor: Any, lab_user: Any, at: dt.datetime | None = None, phenotype: str = "MALS",
          number: str | None = None, sepsis3_at: dt.datetime | None = None, **overrides: Any) -> Participant:
    """Randomized, then the first IV dose (15 minutes later) and the first SC dose (20 minutes
    later) given, through the administration form. Without ``at``, randomized an hour ago."""
    at = at or timezone.now() - dt.timedelta(hours=1)
    participant = randomized(site, actor=actor, lab_user=lab_user, at=at, phenotype=phenotype, number=number,
                             sepsis3_at=sepsis3_at, **overrides)
    start = participant.randomized_at
    with clock(start + dt.timedelta(minutes=30)):
        form_create(actor=actor, spec=ADMINISTRATION, participant=participant,
                    data=iv(start + dt.timedelta(minutes=15), 1), submit=True)
        form_create(actor=actor, spec=ADMINISTRATION, participant=participant,
                    data=sc(start + dt.timedelta(minutes=20), 1), submit=True)
    participant.refresh_from_db()
    return participant
