"""Clocks with frozen times, and the clock job: thresholds, escalation, PV-only SUSAR clocks,
idempotence, catch-up after downtime, fixed query count, overlapping runs on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_update
from ecrf.notifications.models import Notification
from safety.clocks import ClockKind
from safety.models import Clock, ClockVisibility
from safety.services import assessment_record, clock_start, clocks_evaluate
from safety.specs import AE_SPEC
from tests.safety.conftest import SERIOUS

pytestmark = pytest.mark.django_db
ATHENS = ZoneInfo("Europe/Athens")
UTC = dt.UTC


def test_24_hour_clock_across_the_spring_daylight_saving_change(make_ae):
    aware = dt.datetime(2025, 3, 29, 12, 0, tzinfo=ATHENS)  # Athens springs forward on 30 March 03:00
    ae = make_ae(aware_at=aware, onset_date=dt.date(2025, 3, 29), **SERIOUS)
    clock = Clock.objects.get(adverse_event=ae)
    assert clock.due_at == dt.datetime(2025, 3, 30, 10, 0, tzinfo=UTC)
    assert clock.due_at.astimezone(ATHENS).hour == 13  # 24 elapsed hours, not 24 wall-clock hours
    # Frozen evaluation instants around the deadline.
    assert clocks_evaluate(now=dt.datetime(2025, 3, 30, 3, 59, tzinfo=UTC))["notifications"] == 0
    clocks_evaluate(now=dt.datetime(2025, 3, 30, 4, 0, tzinfo=UTC))  # 6 h left = 25%: due soon
    assert set(Notification.objects.values_list("threshold", flat=True)) == {"due_soon"}
    clocks_evaluate(now=dt.datetime(2025, 3, 30, 9, 59, 59, tzinfo=UTC))
    assert not Notification.objects.filter(threshold="overdue").exists()
    clocks_evaluate(now=dt.datetime(2025, 3, 30, 10, 0, tzinfo=UTC))
    assert Notification.objects.filter(threshold="overdue").exists()


def _susar(make_ae, users, participant, aware, **overrides):  # noqa: ANN001, ANN202
    ae = make_ae(participant=participant, aware_at=aware, onset_date=aware.astimezone(ATHENS).date(), **{**SERIOUS, **overrides})
    assessment_record(actor=users[Role.SAFETY_OFFICER], ae=ae, expected=False, rsi_reference="IB anakinra v3",
                      sponsor_aware_at=aware)
    return ae


def test_7_day_clock_whose_awareness_falls_just_before_midnight_in_the_sponsor_zone(make_ae, users, mals):
    aware = dt.datetime(2025, 6, 1, 23, 59, tzinfo=ATHENS)  # 20:59 UTC: day 0 is 1 June in Athens
    ae = _susar(make_ae, users, mals, aware, serious_life_threatening=True, grade=4)
    seven = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_FATAL)
    assert seven.due_at == dt.datetime(2025, 6, 9, 0, 0, tzinfo=ATHENS)  # end of day 7 = 8 June 24:00 local
    follow = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_FATAL_FOLLOWUP)
    assert follow.due_at == dt.datetime(2025, 6, 17, 0, 0, tzinfo=ATHENS)  # 8 more days
    assert seven.visibility == ClockVisibility.MASKED
    # One minute later, it is already 2 June: a day later deadline.
    ae2 = _susar(make_ae, users, mals, aware + dt.timedelta(minutes=1), serious_life_threatening=True, grade=4)
    assert Clock.objects.get(adverse_event=ae2, kind=ClockKind.SUSAR_FATAL).due_at == dt.datetime(2025, 6, 10, 0, 0, tzinfo=ATHENS)


def test_15_day_clock_and_the_susar_that_becomes_fatal(make_ae, users, mals):
    aware = dt.datetime(2025, 10, 20, 10, 0, tzinfo=ATHENS)
    ae = _susar(make_ae, users, mals, aware)
    other = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_OTHER)
    # Day 0 = 20 Oct; due end of 4 Nov local; DST ended on 26 Oct, so UTC+2 at the deadline.
    assert other.due_at == dt.datetime(2025, 11, 4, 22, 0, tzinfo=UTC)
    ae.refresh_from_db()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Patient died",
                data={"grade": 5, "outcome": "fatal", "serious_death": True})
    became = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_BECAME_FATAL)
    learnt = became.started_at.astimezone(ATHENS).date()
    assert became.due_at == dt.datetime.combine(learnt + dt.timedelta(days=8), dt.time(0), tzinfo=ATHENS)
    assert became.visibility == ClockVisibility.MASKED
    # Another change does not start a second one.
    ae.refresh_from_db()
    form_update(actor=users[Role.INVESTIGATOR], spec=AE_SPEC, form=ae, version=ae.version, reason="Narrative", data={"verbatim_term": "Major melaena"})
    assert Clock.objects.filter(adverse_event=ae, kind=ClockKind.SUSAR_BECAME_FATAL).count() == 1


@pytest.fixture
def team(users, make_user, site_b):
    lead = make_user(Role.SAFETY_OFFICER, is_lead_safety_officer=True)
    contact = make_user(Role.SPONSOR, email="safety@example.org")
    other_site = make_user(Role.INVESTIGATOR, sites=[site_b])
    return {"lead": lead, "contact": contact, "other_site": other_site}


def _recipients(threshold: str, clock: Clock) -> set[str]:
    return set(Notification.objects.filter(source=f"safety.clock:{clock.pk}", threshold=threshold)
               .values_list("recipient__username", flat=True))


def test_due_soon_and_overdue_notify_once_and_overdue_escalates(make_ae, users, team):
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    ae = make_ae(aware_at=aware, **SERIOUS)
    clock = Clock.objects.get(adverse_event=ae)
    clocks_evaluate(now=aware + dt.timedelta(hours=18))
    site_and_safety = {users[Role.INVESTIGATOR].username, users[Role.COORDINATOR].username,
                       users[Role.SAFETY_OFFICER].username, team["lead"].username}
    assert _recipients("due_soon", clock) == site_and_safety
    assert team["other_site"].username not in _recipients("due_soon", clock)
    clocks_evaluate(now=aware + dt.timedelta(hours=18, minutes=2))  # the next run: nothing new
    assert Notification.objects.count() == len(site_and_safety)
    clocks_evaluate(now=aware + dt.timedelta(hours=24))
    assert _recipients("overdue", clock) == site_and_safety | {team["contact"].username}
    clock.refresh_from_db()
    assert "safety@example.org" in clock.escalation and str(team["lead"].pk) in clock.escalation
    note = Notification.objects.filter(threshold="overdue").first()
    assert "OVERDUE" in note.subject and "AE #" in note.subject and note.link == "/safety/clocks/"


def test_safety_contact_without_an_account_is_recorded_as_not_notified(make_ae, users):
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    ae = make_ae(aware_at=aware, **SERIOUS)
    clocks_evaluate(now=aware + dt.timedelta(days=2))
    assert "no user account: not notified" in Clock.objects.get(adverse_event=ae).escalation


def test_a_run_after_downtime_catches_up_and_met_clocks_stay_quiet(make_ae, users, team):
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    late = make_ae(aware_at=aware, **SERIOUS)
    met = make_ae(aware_at=aware, **SERIOUS)
    Clock.objects.filter(adverse_event=met).update(met_at=aware + dt.timedelta(hours=1))
    clocks_evaluate(now=aware + dt.timedelta(days=3))  # the worker was down for three days
    clock = Clock.objects.get(adverse_event=late)
    assert _recipients("due_soon", clock) and _recipients("overdue", clock)
    assert not Notification.objects.filter(source=f"safety.clock:{Clock.objects.get(adverse_event=met).pk}").exists()


def test_susar_clocks_notify_pharmacovigilance_only(make_ae, users, team, mals):
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    ae = _susar(make_ae, users, mals, aware)
    Clock.objects.filter(adverse_event=ae, kind=ClockKind.SAE_INITIAL).update(met_at=aware)
    clocks_evaluate(now=aware + dt.timedelta(days=30))
    susar = Clock.objects.get(adverse_event=ae, kind=ClockKind.SUSAR_OTHER)
    assert _recipients("due_soon", susar) == {users[Role.PHARMACOVIGILANCE].username}
    assert _recipients("overdue", susar) == {users[Role.PHARMACOVIGILANCE].username}
    assert susar.escalation == ""


def test_the_clock_job_costs_a_fixed_number_of_queries(make_ae, users, team, participant_a, django_assert_num_queries):
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    ae = make_ae(aware_at=aware, **SERIOUS)

    def add(n: int) -> None:
        for _ in range(n):
            clock_start(ae=ae, kind=ClockKind.SAE_FOLLOWUP, started_at=aware, actor=None)

    add(3)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        clocks_evaluate(now=aware + dt.timedelta(days=2))
    Notification.objects.all().delete()
    Clock.objects.update(due_soon_notified_at=None, overdue_notified_at=None)
    add(40)
    with CaptureQueriesContext(connection) as large:
        result = clocks_evaluate(now=aware + dt.timedelta(days=2))
    assert result["clocks"] == 44

    def counted(ctx) -> list[str]:  # noqa: ANN001
        # SQLite caps a statement at 999 parameters, so Django splits the one bulk INSERT of the
        # outbox rows (and of the clocks' history rows) there; PostgreSQL sends each as one statement.
        sql = [q["sql"] for q in ctx.captured_queries]
        if connection.vendor == "sqlite":
            sql = [q for q in sql if not any(t in q.split("(", 1)[0] for t in ('"notifications_notification"',
                                                                              '"safety_historicalclock"'))]
        return sql

    # Fixed: the candidates (blinded and pharmacovigilance clocks), the recipients, the outbox
    # insert, one executemany UPDATE of the notified clocks, and their history rows in one insert
    # under the audit chain's head lock (18 on PostgreSQL; SQLite's count leaves out its split inserts).
    assert len(counted(large)) == len(counted(small)) <= (18 if connection.vendor == "postgresql" else 16)
    assert Clock.history.filter(history_type="~", history_change_reason__startswith="Clock job").count() == 4 + 44  # each run, each clock


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_clock_jobs_notify_each_threshold_once(make_ae, users, team, monkeypatch):
    from ecrf.notifications import tasks

    monkeypatch.setattr(tasks.deliver_pending, "delay", lambda: None)  # delivery is not under test
    aware = dt.datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    for _ in range(30):
        make_ae(aware_at=aware, **SERIOUS)
    now = aware + dt.timedelta(days=2)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(clocks_evaluate(now=now))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Due soon: investigator, coordinator, safety officer, lead; overdue: the same + the contact.
    expected = 30 * (4 + 5)
    assert Notification.objects.count() == expected, results
    from django.db.models import Count

    assert not Notification.objects.values("source", "recipient", "threshold").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert sum(r["notifications"] for r in results) >= expected  # the runs split or repeat work, never duplicate rows
