"""Reads of the administration logs other apps rely on (SOFA mITT, safety window).

Contract (read by the SOFA endpoints and safety):
- ``first_dose_at(participant)``: start time (UTC, aware) of the earliest *given*, submitted
  administration of either route, or None;
- ``first_doses(ids)``: participant id -> that time, in one query;
- ``received_any_dose(participant)``: whether such an administration exists (mITT population);
- ``given_administrations()``: those administrations, for an ``Exists`` (the screening report).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Min, QuerySet

from ecrf.crf.models import EntryStatus
from ecrf.dosing.models import Administration, Discontinuation


def _given(statuses: tuple[str, ...] = (EntryStatus.SUBMITTED,)) -> QuerySet[Administration]:
    return Administration.objects.filter(given=True, status__in=statuses, started_at__isnull=False)


def given_administrations() -> QuerySet[Administration]:
    """What "dosed" means everywhere (the mITT population, the screening report's flow): a
    given, submitted administration with its start time."""
    return _given()


def first_dose_at(participant: Any) -> dt.datetime | None:
    pid = getattr(participant, "pk", participant)
    return _given().filter(participant_id=pid).aggregate(first=Min("started_at"))["first"]


def first_doses(participant_ids: Iterable[int]) -> dict[int, dt.datetime]:
    rows = _given().filter(participant_id__in=list(participant_ids)).values("participant_id").annotate(first=Min("started_at"))
    return {row["participant_id"]: row["first"] for row in rows.order_by()}


def received_any_dose(participant: Any) -> bool:
    pid = getattr(participant, "pk", participant)
    return _given().filter(participant_id=pid).exists()


def schedule_anchor(participant: Any, *, exclude_pk: int | None = None) -> dt.datetime | None:
    """The time the dose schedule runs from: the earliest given administration entered so far
    (draft or submitted), so that slots line up while the first dose is still a draft."""
    qs = _given((EntryStatus.DRAFT, EntryStatus.SUBMITTED)).filter(participant_id=participant.pk)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.aggregate(first=Min("started_at"))["first"]


def discontinuations_for(participant: Any) -> list[Discontinuation]:
    return discontinuations_by_participant([participant.pk]).get(participant.pk, [])


def discontinuations_by_participant(participant_ids: Iterable[int]) -> dict[int, list[Discontinuation]]:
    """participant id -> its submitted permanent discontinuations, earliest first, in one query."""
    out: dict[int, list[Discontinuation]] = {}
    rows = Discontinuation.objects.filter(participant_id__in=list(participant_ids), status=EntryStatus.SUBMITTED)
    for row in rows.order_by("discontinued_on", "pk"):
        out.setdefault(row.participant_id, []).append(row)
    return out


def discontinued_on(discontinuations: Iterable[Discontinuation], route: str) -> dt.date | None:
    """The earliest date the route was permanently stopped ('both' stops each route)."""
    dates = [d.discontinued_on for d in discontinuations if d.route in (route, "both")]
    return min(dates) if dates else None


def given_after(participant: Any, moment: dt.datetime) -> list[Administration]:
    """Given administrations (draft or submitted) that started after ``moment``, earliest first:
    the doses a death recorded at ``moment`` would contradict."""
    pid = getattr(participant, "pk", participant)
    return list(_given((EntryStatus.DRAFT, EntryStatus.SUBMITTED)).filter(participant_id=pid, started_at__gt=moment)
                .order_by("started_at", "pk"))
