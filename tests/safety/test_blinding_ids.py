"""Nothing a blinded reader sees depends on the arm through ids, counts, ordering or times.

The reported leak: a case pharmacovigilance decided was a SUSAR gets, when it becomes fatal, a
clock only pharmacovigilance sees; it existed only in the active arm and took an id from the
sequence of the clocks the safety officer lists, so the next serious AE's clock id jumped and the
gap revealed the arm. The same holds for every row that exists only because of the decision (its
history, its notifications, its submissions).

Two worlds are built through the real services from the same rolled-back state, identical except
for the arm the real allocation list gives the one participant (the list is generated with the
arms exchanged in the second world): the case is assessed a potential SUSAR, pharmacovigilance
unblinds it for real (active: a SUSAR; placebo: not a SUSAR), the AE becomes fatal, the clock job
runs and notifies, then the next serious AE arrives and the job runs again. Every blinded role's
pages and API answers (clock lists, details, the board, counts, notifications, reports, history)
must be byte-identical after normalising wall-clock times and random public ids; so must the ids,
contents and ordering of every blinded table's rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create, form_update
from ecrf.notifications.models import Notification
from ecrf.notifications.tasks import deliver_pending
from ecrf.randomization import allocation
from ecrf.randomization.models import Assignment
from ecrf.randomization.services import allocation_list_generate, participant_randomize
from safety.models import AdverseEvent, Clock, ExpeditedAssessment, SAEReport, Submission
from safety.services import assessment_record, clocks_evaluate, susar_unblind_and_decide
from safety.specs import AE_SPEC
from tests.conftest import PASSWORD
from tests.safety.conftest import SERIOUS, ae_data
from tests.support.screening import eligible_participant

pytestmark = pytest.mark.django_db
UTC = dt.UTC
BLINDED_READERS = (Role.SAFETY_OFFICER, Role.INVESTIGATOR, Role.COORDINATOR, Role.MONITOR, Role.DATA_MANAGER)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_COUNTDOWN = re.compile(r'("seconds_left":\s*)-?\d+|(data-seconds=")-?\d+(")|>-?\d+ s<')
_HOURS = re.compile(r"\b\d+ (?:hours?|minutes?|days?) ago\b")
# Fields holding the wall-clock time a row was written (each world is built a few seconds apart).
WALL_CLOCK = {"created_at", "updated_at", "submitted_at", "recorded_at", "history_date", "started_at", "due_at",
              "due_soon_at", "closed_at", "met_at", "due_soon_notified_at", "overdue_notified_at", "escalation",
              "decided_at", "assessed_at", "sponsor_aware_at", "prev_hash", "row_hash", "requested_at", "snapshot",
              "changes", "public_id", "delivered_at", "claimed_at", "emailed_at", "read_at", "subject", "body",
              "history_change_reason", "last_pk", "last_hash"}


def normalise(text: str) -> str:
    text = _CSRF.sub(r"\1<csrf>\2", text)
    text = _UUID.sub("<public-id>", text)  # random by design: reveals nothing, differs per world
    text = _TIME.sub("<time>", text)
    text = _COUNTDOWN.sub("<n>", text)
    return _HOURS.sub("<n> ago", text)


def _reset_sequences() -> None:
    # PostgreSQL sequences are not transactional: restart them at max(id) + 1 so that both worlds
    # start from the same ids. (SQLite's sqlite_sequence rolls back with the savepoint.)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(sql)


def _swap(slots: list[allocation.Slot]) -> list[allocation.Slot]:
    return [dataclasses.replace(s, arm="placebo" if s.arm == "active" else "active") for s in slots]


def _rows(model: Any, *, exclude: frozenset[str] = frozenset(), **filters: Any) -> list[Any]:
    """A blinded table's rows as stored: ids, contents (wall-clock fields set aside) and the order
    of their timestamps."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in WALL_CLOCK | exclude]
    rows = list(model.objects.filter(**filters).order_by("pk").values_list(*names))
    position = {pk: n for n, pk in enumerate(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))}
    stamps = [f.attname for f in model._meta.concrete_fields if f.attname in {"created_at", "history_date", "updated_at"}]
    # Each timestamp's order, as positions among these rows (not ids, which ``exclude`` may hide).
    orders = [[position[pk] for pk in model.objects.filter(**filters).order_by(s, "pk").values_list("pk", flat=True)]
              for s in stamps]
    return [names, rows, orders]


def _world(users: dict[str, Any], swap: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with transaction.atomic():
        _reset_sequences()
        with monkeypatch.context() as m:
            if swap:
                original = allocation.generate_allocation_list
                m.setattr(allocation, "generate_allocation_list", lambda *a, **k: _swap(original(*a, **k)))
            allocation_list_generate(actor=users[Role.STATISTICIAN], seed="blinding-ids", slots_per_stratum=12)
        participant = eligible_participant(users[Role.COORDINATOR], users[Role.LAB], users["site"], "A-B01", "MALS")
        participant_randomize(actor=users[Role.COORDINATOR], participant=participant)
        participant.refresh_from_db()
        arm = Assignment.objects.get(participant_id=participant.pk).slot.arm
        aware = dt.datetime(2025, 6, 1, 9, tzinfo=UTC)
        ae = form_create(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, participant=participant, submit=True,
                         data=ae_data(aware_at=aware, **SERIOUS))
        case = assessment_record(actor=users[Role.SAFETY_OFFICER], ae=ae, expected=False, rsi_reference="IB v3",
                                 sponsor_aware_at=aware + dt.timedelta(hours=2))
        case = susar_unblind_and_decide(actor=users[Role.PHARMACOVIGILANCE], assessment=case, reason="Potential SUSAR",
                                        password=PASSWORD)
        seen["__decision__"] = (arm, case.pv_outcome)
        ae.refresh_from_db()
        # The decided case becomes fatal (the reported leak), then the clock job notifies.
        form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Patient died",
                    data={"grade": 5, "outcome": "fatal", "serious_death": True, "end_date": dt.date(2025, 6, 3)})
        clocks_evaluate()
        # The next serious AE, another participant's, and the job again.
        other = form_create(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, participant=users["participant"], submit=True,
                            data=ae_data(aware_at=aware, **SERIOUS))
        clocks_evaluate()
        deliver_pending.apply()
        seen["next clock id"] = list(Clock.objects.filter(adverse_event=other).values_list("pk", flat=True))
        for role in BLINDED_READERS:
            api = APIClient()
            api.force_login(users[role])
            page = Client()
            page.force_login(users[role])
            urls = ["/api/v1/clocks/", f"/api/v1/clocks/?adverse_event={other.pk}", "/api/v1/clocks/?state=closed",
                    "/api/v1/clocks/?state=overdue", f"/api/v1/clocks/{seen['next clock id'][0]}/", "/api/v1/notifications/",
                    "/api/v1/sae-reports/", f"/api/v1/adverse-events/{ae.pk}/", f"/api/v1/adverse-events/{ae.pk}/history/"]
            for url in urls:
                response = api.get(url)
                key = url.replace(str(seen["next clock id"][0]), "<next clock>")  # the id itself is compared above
                seen[f"{role} {key}"] = (response.status_code, normalise(response.content.decode()))
            for url in ("/", "/safety/clocks/", "/inbox/", f"/safety/ae/{ae.pk}/", f"/safety/ae/{other.pk}/",
                        f"/forms/adverse-events/{ae.pk}/history/"):
                response = page.get(url)
                seen[f"{role} page {url}"] = (response.status_code, normalise(response.content.decode()))
        blinded = [u.pk for r, u in users.items() if r in BLINDED_READERS]
        seen.update({f"table {name}": rows for name, rows in {
            "clock": _rows(Clock), "clock history": _rows(Clock.history.model),
            "submission": _rows(Submission), "submission history": _rows(Submission.history.model),
            "report": _rows(SAEReport), "report history": _rows(SAEReport.history.model),
            "ae history": _rows(AdverseEvent.history.model),
            "assessment": _rows(ExpeditedAssessment, exclude=frozenset({"pv_outcome"})),
            "assessment history": _rows(ExpeditedAssessment.history.model),
            "blinded notifications": _rows(Notification, exclude=frozenset({"id"}), recipient_id__in=blinded),
        }.items()})
        transaction.set_rollback(True)
    return seen


def test_blinded_readers_see_the_same_ids_counts_order_and_notifications_whatever_the_arm(users, meddra, site_a,
                                                                                           participant_a, make_user,
                                                                                           monkeypatch):
    make_user(Role.SAFETY_OFFICER, is_lead_safety_officer=True)  # overdue clocks escalate to someone
    everyone = {**users, "site": site_a, "participant": participant_a}
    # Both worlds at the same instant: what a page draws from "now" (the clock board's timeline,
    # its "now" line and countdowns) is then the same in both, and only the arm differs.
    with time_machine.travel(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC), tick=False):
        world = _world(everyone, False, monkeypatch)
        swapped = _world(everyone, True, monkeypatch)
    _reset_sequences()
    # The worlds really differ in the arm, and pharmacovigilance decided each accordingly.
    decisions = {world.pop("__decision__"), swapped.pop("__decision__")}
    assert decisions == {("active", "susar"), ("placebo", "not_susar")}
    assert world.keys() == swapped.keys()
    differing = [key for key in world if world[key] != swapped[key]]
    assert not differing, (differing, [(world[k], swapped[k]) for k in differing[:1]])
    # Sanity: the views were rendered, the job notified blinded readers, the board lists clocks.
    officer = {k: v for k, v in world.items() if k.startswith(Role.SAFETY_OFFICER)}
    assert officer and all(status == 200 for status, _ in officer.values())
    assert '"count":' in world[f"{Role.SAFETY_OFFICER} /api/v1/notifications/"][1]
    assert world["table blinded notifications"][1] and world["next clock id"]
