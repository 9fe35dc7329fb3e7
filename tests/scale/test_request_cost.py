"""Every main list, detail and page costs the same number of queries whatever the trial's size.

One trial is built through the services and every request below is counted; the trial then
grows (three times the participants, each with more administrations, corrections that add
history rows, more data queries) and every request is counted again. A request whose count
changed does work per row somewhere (an N+1): the test names it with both counts.

The trial is built once for the module (inside a transaction rolled back at the end) and only
read by the tests, so the module runs in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ecrf.accounts.roles import Role
from ecrf.accounts.services import user_create
from ecrf.crf.models import Participant
from ecrf.crf.services import form_create, form_update
from ecrf.dosing.specs import ADMINISTRATION
from ecrf.queries.services import query_raise
from ecrf.study.models import Site, Study
from tests.support import stages
from tests.support.times import athens, iv

# The tests only read the module's trial; the mark also makes pytest-django create the test
# database when this module runs alone.
pytestmark = pytest.mark.django_db

DAY_ONE = athens(2025, 3, 10, 10, 0)

# (test id, role of the user, url name, the url's argument: None, "participant", "form", ...;
# "?participant" is the participant as a query parameter)
REQUESTS: list[Any] = [
    ("participant list API", Role.COORDINATOR, "participant-list", None),
    ("participant detail API", Role.COORDINATOR, "participant-detail", "participant"),
    ("participant history API", Role.COORDINATOR, "participant-history", "participant"),
    ("schedule API", Role.COORDINATOR, "participant-schedule-list", "participant"),
    ("administrations list API", Role.COORDINATOR, "administrations-list", None),
    ("administration detail API", Role.COORDINATOR, "administrations-detail", "form"),
    ("administration history API", Role.COORDINATOR, "administrations-history", "form"),
    ("SOFA list API", Role.COORDINATOR, "sofa-list", None),
    ("query list API", Role.DATA_MANAGER, "query-list", None),
    ("notification list API", Role.COORDINATOR, "notification-list", None),
    ("exports list API", Role.DATA_MANAGER, "exports-list", None),
    ("locks list API", Role.DATA_MANAGER, "locks-list", None),
    ("verifications list API", Role.MONITOR, "verifications-list", "?participant"),
    ("signatures list API", Role.INVESTIGATOR, "signatures-list", "?participant"),
    ("adverse events list API", Role.SAFETY_OFFICER, "adverse-events-list", None),
    ("SAE reports list API", Role.SAFETY_OFFICER, "sae-reports-list", None),
    ("clocks list API", Role.SAFETY_OFFICER, "clocks-list", None),
    ("screening log API", Role.COORDINATOR, "screening-log-list", None),
    ("coordinator home", Role.COORDINATOR, "home:home", None),
    ("data manager home", Role.DATA_MANAGER, "home:home", None),
    ("participant list page", Role.COORDINATOR, "crf:participant-list", None),
    ("participant page", Role.COORDINATOR, "crf:participant-detail", "participant"),
    ("participant history page", Role.COORDINATOR, "crf:participant-history", "participant"),
    ("casebook", Role.COORDINATOR, "schedule:casebook", "participant"),
    ("dosing day page", Role.COORDINATOR, "dosing:day", "participant-day"),
    ("form page", Role.COORDINATOR, "crf:form-detail", "form-slug"),
    ("form history page", Role.COORDINATOR, "crf:form-history", "form-slug"),
    ("query inbox (data manager)", Role.DATA_MANAGER, "queries:inbox", None),
    ("query list (site)", Role.COORDINATOR, "queries:site-list", None),
    ("query aging", Role.DATA_MANAGER, "queries:aging", None),
    ("verification progress", Role.MONITOR, "review:progress", None),
    ("participant verification", Role.MONITOR, "review:participant-sdv", "participant"),
    ("signing page", Role.INVESTIGATOR, "review:sign", "participant"),
    ("locks page", Role.DATA_MANAGER, "review:locks", None),
    ("AE list (safety)", Role.SAFETY_OFFICER, "safety:ae-list", None),
    ("clock board", Role.SAFETY_OFFICER, "safety:clock-board", None),
    ("adjudication queue", Role.SAFETY_OFFICER, "safety:adjudication-queue", None),
    ("exports page", Role.DATA_MANAGER, "exports:list", None),
    ("screening log page", Role.COORDINATOR, "screening:log", None),
    ("notifications inbox", Role.COORDINATOR, "notifications:inbox", None),
]


class Trial:
    """The growing trial: participants at site A entered through the services."""

    def __init__(self) -> None:
        Study.objects.create(code="SCALE", title="Scale", time_zone="Europe/Athens", safety_contact_email="s@example.org")
        self.site = Site.objects.create(code="A", name="Site A", country="GR", time_zone="Europe/Athens")
        Site.objects.create(code="B", name="Site B", country="NL", time_zone="Europe/Amsterdam")
        self.users = {}
        for role in Role.values:
            sites = [self.site.code] if role in {Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.PHARMACIST} else []
            self.users[role], _ = user_create(actor=None, username=f"scale-{role}", roles=[role], site_codes=sites)
        self.participants: list[Participant] = []
        self.doses: dict[int, int] = {}
        self.first_form: Any = None

    def add_participants(self, count: int) -> None:
        for _ in range(count):
            p = stages.randomized(self.site, actor=self.users[Role.COORDINATOR], lab_user=self.users[Role.LAB], at=DAY_ONE)
            self.participants.append(p)
            self.doses[p.pk] = 0

    def add_doses(self, participant: Participant, count: int) -> None:
        """``count`` more IV doses (8 h apart from 30 minutes after randomization), each with a
        data query of the data manager on its volume."""
        start = participant.randomized_at + dt.timedelta(minutes=30)
        for _ in range(count):
            n = self.doses[participant.pk] = self.doses[participant.pk] + 1
            form = form_create(actor=self.users[Role.COORDINATOR], spec=ADMINISTRATION, participant=participant,
                               data=iv(start + dt.timedelta(hours=8 * (n - 1)), n), submit=True)
            query_raise(actor=self.users[Role.DATA_MANAGER], spec=ADMINISTRATION, form=form, field="volume_ml",
                        text="Please confirm the volume.")
            self.first_form = self.first_form or form

    def correct(self, form: Any, times: int) -> None:
        """``times`` corrections of a submitted form (each a history row with its reason)."""
        for k in range(times):
            form.refresh_from_db()
            form_update(actor=self.users[Role.COORDINATOR], spec=ADMINISTRATION, form=form,
                        data={"duration_minutes": 31 + k}, version=form.version, reason="Transcription error")


def _path(name: str, arg: str | None, trial: Trial) -> str:
    participant = trial.participants[0]
    form = trial.first_form
    if arg == "?participant":
        return f"{reverse(name)}?participant={participant.pk}"
    args: list[Any] = {
        None: [],
        "participant": [participant.pk],
        "participant-day": [participant.pk, 1],
        "form": [form.pk],
        "form-slug": [ADMINISTRATION.slug, form.pk],
    }[arg]
    return reverse(name, args=args)


def _count_all(trial: Trial, clients: dict[str, Client]) -> dict[str, tuple[int, int]]:
    """(status, number of queries) of each request."""
    out = {}
    for test_id, role, name, arg in (r.values if hasattr(r, "values") else r for r in REQUESTS):
        path = _path(name, arg, trial)
        with CaptureQueriesContext(connection) as ctx:
            response = clients[role].get(path)
        out[test_id] = (response.status_code, len(ctx.captured_queries))
    return out


def measure(grow: Callable[[Trial], None], first: Callable[[Trial], None]) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    trial = Trial()
    first(trial)
    clients = {}
    for role in {(r.values if hasattr(r, "values") else r)[1] for r in REQUESTS}:
        clients[role] = Client()
        clients[role].force_login(trial.users[role])
    _count_all(trial, clients)  # warm the per-process caches (content types, roles, the protocol)
    small = _count_all(trial, clients)
    grow(trial)
    large = _count_all(trial, clients)
    return {k: (small[k], large[k]) for k in small}


def _small(trial: Trial) -> None:
    trial.add_participants(2)
    for p in trial.participants:
        trial.add_doses(p, 2)


def _grow(trial: Trial) -> None:
    """Three times the participants; the first participant gets five more doses (and queries)
    and its first administration four corrections (history rows)."""
    trial.add_participants(4)
    trial.add_doses(trial.participants[0], 5)
    for p in trial.participants[1:]:
        trial.add_doses(p, 1)
    trial.correct(trial.first_form, 4)


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:  # noqa: ANN001
    with django_db_blocker.unblock(), transaction.atomic():
        result = measure(_grow, _small)
        transaction.set_rollback(True)
    return result


def _cases() -> list[Any]:
    return [pytest.param(r.values[0], marks=r.marks, id=r.values[0]) if hasattr(r, "values") else pytest.param(r[0], id=r[0])
            for r in REQUESTS]


@pytest.mark.parametrize("test_id", _cases())
def test_query_count_is_the_same_at_both_sizes(counts, test_id: str) -> None:
    (status_small, small), (status_large, large) = counts[test_id]
    assert status_small == status_large == 200, f"{test_id}: answered {status_small} and {status_large}"
    assert small == large, f"{test_id}: {small} queries with 2 participants, {large} with 6 (and more forms and history)"
