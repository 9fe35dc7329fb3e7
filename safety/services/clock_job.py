"""The clock job: due-soon and overdue notifications for every open reporting clock, in a fixed
number of queries whatever the number of clocks (benchmarks/clocks.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role
from ecrf.audit.models import append_many_to_chain
from ecrf.notifications.services import Outbox, notify_many
from ecrf.study.services import current_protocol, current_study
from safety.clocks import CLOCK_LABELS, ClockKind, Threshold
from safety.models import Clock, PvClock

NOTIFICATION_KIND = "safety_clock"
# Written by the job on a clock it notified (its history row records them with this reason).
JOB_FIELDS = ("due_soon_notified_at", "overdue_notified_at", "escalation")


def _recipients() -> dict[str, Any]:
    """Who is notified, in a fixed number of queries whatever the number of clocks."""
    through = User.groups.through
    pairs = list(through.objects.filter(user__is_active=True, group__name__in=[
        Role.SAFETY_OFFICER, Role.PHARMACOVIGILANCE, Role.INVESTIGATOR, Role.COORDINATOR,
    ]).values_list("user_id", "group__name"))
    by_role: dict[str, set[int]] = defaultdict(set)
    for user_id, group in pairs:
        by_role[group].add(user_id)
    site_staff = by_role[Role.INVESTIGATOR] | by_role[Role.COORDINATOR]
    staff_by_site: dict[int, set[int]] = defaultdict(set)
    for user_id, site_id in User.sites.through.objects.filter(user_id__in=site_staff).values_list("user_id", "site_id"):
        staff_by_site[site_id].add(user_id)
    leads = set(User.objects.filter(is_active=True, is_lead_safety_officer=True).values_list("pk", flat=True))
    study = current_study()
    email = study.safety_contact_email if study else ""
    contact = None
    if email:
        contact = User.objects.filter(is_active=True, email__iexact=email).order_by("pk").values_list("pk", flat=True).first()
    escalation = ", ".join(filter(None, [
        f"lead safety officer(s) {sorted(leads)}" if leads else "no lead safety officer configured",
        (f"sponsor safety contact {email} (user {contact})" if contact else f"sponsor safety contact {email} (no user account: not notified)")
        if email else "no sponsor safety contact configured",
    ]))
    return {"safety": by_role[Role.SAFETY_OFFICER], "pv": by_role[Role.PHARMACOVIGILANCE], "site": staff_by_site,
            "leads": leads, "contact": contact, "escalation": escalation}


def _message(clock: Clock | PvClock, threshold: Threshold, tz: Any) -> tuple[str, str]:
    """Subject and body: participant, AE and deadline; never the arm or the product."""
    ae = clock.adverse_event
    due_local = clock.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    what = CLOCK_LABELS[ClockKind(clock.kind)]
    state = "due soon" if threshold == Threshold.DUE_SOON else "OVERDUE"
    subject = f"{what} {state}: {ae.participant.label}, AE #{ae.pk}, due {due_local}"
    body = (f"{what} for adverse event #{ae.pk} ({ae.verbatim_term}) of participant {ae.participant.label} "
            f"at site {ae.participant.site.code} is {state}; due {due_local}.")
    return subject[:200], body


def _candidates(model: type[Clock] | type[PvClock], now: dt.datetime) -> list[Any]:
    qs: QuerySet[Any] = model.objects.filter(met_at__isnull=True, closed_at__isnull=True).filter(
        Q(due_soon_at__lte=now, due_soon_notified_at__isnull=True, due_soon_at__lt=F("due_at"))
        | Q(due_at__lte=now, overdue_notified_at__isnull=True)
    ).select_related("adverse_event__participant__site").order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs)


def _write_with_history(model: type[Model], rows: list[Any], fields: tuple[str, ...], when: dt.datetime) -> None:
    """Save the job's fields of ``rows`` and their history rows (who: the system; reason), in
    two statements whatever the number of rows: one UPDATE per row sent with executemany, and
    one bulk insert of the history rows linked into the table's hash chain (ecrf.audit).
    Never ``QuerySet.update()``, which would leave the change out of the history."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET " + ", ".join(f"{quote(f.column)} = %s" for f in columns)  # type: ignore[union-attr]
           + f" WHERE {quote(meta.pk.column)} = %s")  # type: ignore[union-attr]
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns] + [row.pk] for row in rows]  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    history = model.history.model  # type: ignore[attr-defined]
    records = [history(history_date=when, history_user=None, history_change_reason=row._change_reason, history_type="~",
                       **{f.attname: getattr(row, f.attname) for f in history.tracked_fields})
               for row in rows]
    # One insert (a fixed query count); the database, not Python, bounds its size.
    append_many_to_chain(history, records, batch_size=len(records))


@transaction.atomic
def clocks_evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The clock job: notify each clock that has become due soon or overdue, once per clock and
    threshold (the outbox's unique key; rows locked with SKIP LOCKED so overlapping runs split
    the work), escalating overdue SAE clocks to the lead safety officer and the sponsor's safety
    contact. SUSAR clocks (masked ones and pharmacovigilance's own) notify pharmacovigilance
    only: their outcome would reveal the arm. A run after downtime catches up every threshold
    crossed meanwhile. Every notified clock gets a history row. Fixed query count."""
    now = now or timezone.now()
    clocks = _candidates(Clock, now)
    pv_clocks = _candidates(PvClock, now)
    if not clocks and not pv_clocks:
        return {"clocks": 0, "notifications": 0}
    who = _recipients()
    tz = ZoneInfo(current_protocol().sponsor_time_zone)
    link = reverse("safety:clock-board")
    rows: list[Outbox] = []
    for clock in [*clocks, *pv_clocks]:
        crossed = []
        if clock.due_soon_notified_at is None and clock.due_soon_at <= now and clock.due_soon_at < clock.due_at:
            crossed.append(Threshold.DUE_SOON)
            clock.due_soon_notified_at = now
        if clock.overdue_notified_at is None and clock.due_at <= now:
            crossed.append(Threshold.OVERDUE)
            clock.overdue_notified_at = now
        escalated = Threshold.OVERDUE in crossed and not clock.is_susar
        if escalated:
            clock.escalation = f"{now.isoformat()}: escalated to {who['escalation']}"
        clock._change_reason = "Clock job: " + ", ".join(t.value.replace("_", " ") for t in crossed) + (
            " (escalated)" if escalated else "")
        source = f"safety.{type(clock).__name__.lower()}:{clock.pk}"
        for threshold in crossed:
            subject, body = _message(clock, threshold, tz)
            if clock.is_susar:
                users = set(who["pv"])
            else:
                users = who["safety"] | who["site"].get(clock.adverse_event.participant.site_id, set())
                if threshold == Threshold.OVERDUE:
                    users |= who["leads"] | ({who["contact"]} if who["contact"] else set())
            rows.extend(Outbox(uid, NOTIFICATION_KIND, source, threshold.value, subject, body, link) for uid in sorted(users))
    notify_many(rows)
    _write_with_history(Clock, clocks, JOB_FIELDS, now)
    _write_with_history(PvClock, pv_clocks, JOB_FIELDS[:2], now)
    return {"clocks": len(clocks) + len(pv_clocks), "notifications": len(rows)}
