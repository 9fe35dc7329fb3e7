"""What every family of safety actions shares: the audited save, the AE snapshot a report
carries, starting and meeting clocks (blinded ``Clock`` and pharmacovigilance's ``PvClock``),
and the checks of a recorded submission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils import timezone

from ecrf.core.errors import DomainError, ErrorCode
from ecrf.study.services import current_protocol
from safety import clocks as clockmath
from safety.clocks import ClockKind
from safety.models import AdverseEvent, Clock, ClockVisibility, PvClock

if TYPE_CHECKING:
    from ecrf.accounts.models import User

# What a follow-up report shows as changed: the clinically significant fields of the AE.
REPORTED_FIELDS = (
    "verbatim_term", "llt_code", "pt_name", "onset_date", "end_date", "grade", "serious", "serious_death",
    "serious_life_threatening", "serious_hospitalisation", "serious_disability", "serious_congenital_anomaly",
    "serious_important_medical_event", "outcome", "action_iv", "action_sc", "causality_iv", "causality_sc",
    "aware_at", "anemia", "hb_nadir_g_dl", "transfusion_units", "bleeding", "bleeding_site", "bleeding_severity",
    "bleeding_intervention",
)


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def ae_snapshot(ae: AdverseEvent) -> dict[str, Any]:
    return {name: _json(getattr(ae, name)) for name in REPORTED_FIELDS}


def snapshot_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"old": old.get(k), "new": v} for k, v in new.items() if old.get(k) != v}


def history_user(actor: User | None) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def save_audited(obj: Model, actor: User | None, reason: str) -> None:
    """Save through the model, so its history row (who, when, old, new, reason) is written."""
    obj._history_user = history_user(actor)  # type: ignore[attr-defined]
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save()


def _deadlines(kind: ClockKind, started_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    protocol = current_protocol()
    due = clockmath.due_at(kind, started_at, protocol=protocol)
    soon = clockmath.due_soon_at(started_at=started_at, due_at=due, due_soon_fraction=protocol.clock_due_soon_fraction)
    return due, soon


def clock_start(*, ae: AdverseEvent, kind: ClockKind, started_at: dt.datetime, actor: User | None,
                visibility: str = ClockVisibility.OPEN, reason: str = "") -> Clock:
    """Start a reporting clock; its deadline is computed here (safety.md "Deadlines")."""
    due, soon = _deadlines(kind, started_at)
    clock = Clock(adverse_event=ae, kind=kind, visibility=visibility, started_at=started_at, due_at=due, due_soon_at=soon)
    save_audited(clock, actor, reason or f"{kind.value} clock started")
    return clock


def pv_clock_start(*, ae: AdverseEvent, kind: ClockKind, started_at: dt.datetime, actor: User | None, reason: str,
                   continues: Clock | None = None) -> PvClock:
    """Start a clock of a decided SUSAR in pharmacovigilance's own table (models: "pharmacovigilance's
    own tables"). A continued masked clock keeps its deadline and the notifications already sent."""
    if continues is not None:
        clock = PvClock(adverse_event=ae, continues=continues, kind=continues.kind, started_at=continues.started_at,
                        due_at=continues.due_at, due_soon_at=continues.due_soon_at,
                        due_soon_notified_at=continues.due_soon_notified_at,
                        overdue_notified_at=continues.overdue_notified_at)
    else:
        due, soon = _deadlines(kind, started_at)
        clock = PvClock(adverse_event=ae, kind=kind, started_at=started_at, due_at=due, due_soon_at=soon)
    save_audited(clock, actor, reason)
    return clock


def clock_meet(clock: Clock | PvClock, submitted_at: dt.datetime, actor: User) -> bool:
    """Record the report on its clock; a late report is accepted and stays marked late."""
    late = submitted_at >= clock.due_at
    if clock.met_at is None:
        clock.met_at = submitted_at
        save_audited(clock, actor, "Report submitted late" if late else "Report submitted")
    return late


def clocks_close(clocks: Iterable[Clock | PvClock], actor: User | None, reason: str) -> None:
    now = timezone.now()
    for clock in clocks:
        if clock.is_open:
            clock.closed_at = now
            clock.closed_reason = reason
            save_audited(clock, actor, reason)


def submission_check(*, submitted_at: dt.datetime | None, recipient: str, reference: str, aware_at: dt.datetime,
                     aware_label: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    recipient, reference = (recipient or "").strip(), (reference or "").strip()
    if submitted_at is None:
        errors["submitted_at"] = "Give the time the report was sent."
    elif submitted_at.tzinfo is None:
        errors["submitted_at"] = "Give the time with its time zone."
    elif submitted_at < aware_at:
        errors["submitted_at"] = f"The submission time is before {aware_label}; check both times."
    elif submitted_at > timezone.now() + dt.timedelta(minutes=5):
        errors["submitted_at"] = "The submission time is in the future."
    if not recipient:
        errors["recipient"] = "Say to whom the report was sent."
    if not reference:
        errors["reference"] = "Give the report's reference (e.g. the sponsor's case number)."
    if errors:
        raise DomainError(ErrorCode.INVALID, next(iter(errors.values())), fields=errors)
    return recipient, reference
