"""Writes of the SOFA app beyond the generic form services: re-scoring later days when an
earlier day changes, and deriving each participant's SOFA endpoints with the inputs they came
from (trial.md "Primary endpoint", "Secondary endpoints").

Every randomized participant has an endpoint record from randomization on (derived in the
randomization's transaction, ``ecrf.sofa.listeners``); each later input change re-derives it.
Only submitted forms are data (``ecrf.sofa.endpoints``). Locks follow the one order of
``ecrf.crf.services``: the participant row first, then the forms, then the endpoint row.

Derived endpoints of frozen or locked data do not change (ARCHITECTURE.md invariant 5): a single
derivation that would change a locked participant's endpoints is refused with the write guard's
error; the bulk re-derivation (nightly job, bulk entry) leaves locked participants as they are
and reports how many it held back, so one lock never fails the whole run."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ecrf.audit.models import REASON_MAX_LENGTH, append_many_to_chain
from ecrf.crf.guard import assert_writable, locked_participant_ids
from ecrf.crf.models import Participant
from ecrf.dosing.selectors import first_doses
from ecrf.outcomes.selectors import death_days
from ecrf.sofa import derivation
from ecrf.sofa.endpoints import SofaEndpoints, SofaRecord, derive_sofa_endpoints, observed_sofa
from ecrf.sofa.models import (
    COUNTED_STATUSES,
    ENDPOINT_RULES_VERSION,
    OBSERVED_STATUSES,
    SofaDay,
    SofaEndpoint,
)
from ecrf.study.protocol import Protocol
from ecrf.study.services import current_protocol

if TYPE_CHECKING:
    from ecrf.accounts.models import User

logger = logging.getLogger(__name__)

# --- daily SOFA: later days follow an earlier day ------------------------------------------------


def sofa_days_rescore_after(*, form: SofaDay, actor: User | None) -> list[SofaDay]:
    """Inside the writing transaction of ``form``: re-score the participant's other counted days
    (sofa.md: a missing component is carried forward from the last observed day, so a change,
    insertion, retraction or "not done" of one day can change the days after it). Each changed
    day passes the write guard, gets a new version and a history row naming the cause.

    Lock order (``ecrf.crf.services``): the caller holds the participant row, then ``form``; the
    other days are locked here in (day, pk) order. Two writers of one participant never get this
    far at once (the participant row serialises them), so the order of the days cannot cross."""
    days = list(SofaDay.objects.select_for_update().filter(participant_id=form.participant_id,
                                                          status__in=COUNTED_STATUSES).order_by("day", "pk"))
    by_pk = {d.pk: d for d in days}
    if form.pk in by_pk:
        by_pk[form.pk] = form  # the instance just saved (its values are the current ones)
    changed = [d for d in derivation.rescore_series(list(by_pk.values())) if d.pk != form.pk]
    reason = f"Re-derived: SOFA day {form.day} changed (missing components carried forward)"
    user = actor if getattr(actor, "is_authenticated", False) else None
    for day in changed:
        assert_writable(participant=form.participant, form=day)
        day.version += 1
        day.updated_at = timezone.now()
        day._history_user = user
        day._change_reason = reason
        day.save(update_fields=[*derivation.DERIVED_FIELDS, "version", "updated_at"])
    return changed


# --- endpoints -----------------------------------------------------------------------------------


_DEFERRED: ContextVar[set[int] | None] = ContextVar("sofa_endpoints_deferred", default=None)


def endpoints_schedule(*, participant_id: int) -> None:
    """Re-derive the participant's endpoints after this transaction commits (invariant 9: the
    input is in the database first; the task is idempotent and safe to run twice or at once).
    Call it from any service that changes an input: a SOFA day, a death, a dose."""
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.add(participant_id)
        return
    transaction.on_commit(lambda: _enqueue(participant_id))


@contextmanager
def endpoints_deferred() -> Iterator[set[int]]:
    """For bulk entry (imports, the synthetic trial): collect the participants whose inputs
    changed and re-derive them in one bulk pass at the end instead of one task per save."""
    collected: set[int] = set()
    token = _DEFERRED.set(collected)
    try:
        yield collected
    finally:
        _DEFERRED.reset(token)
    if collected:
        endpoints_rederive(participant_ids=sorted(collected))


def _enqueue(participant_id: int) -> None:
    # deferred import: ecrf.sofa.tasks imports this module (a task calls a service), so a
    # module-level import of the tasks here would be a cycle services -> tasks -> services.
    from ecrf.sofa.tasks import derive_participant_endpoints

    derive_participant_endpoints.delay(participant_id)


@dataclass(frozen=True)
class EndpointInputs:
    sofa_by_day: dict[int, int]
    sofa_forms: dict[int, tuple[int, int]]  # day -> (form id, version)
    death_day: int | None
    first_dose_at: Any  # datetime | None

    @property
    def received_any_dose(self) -> bool:
        return self.first_dose_at is not None

    def as_json(self, protocol: Protocol) -> dict[str, Any]:
        return {
            "sofa": {str(day): {"total": total, "form": self.sofa_forms[day][0], "version": self.sofa_forms[day][1]}
                     for day, total in sorted(self.sofa_by_day.items())},
            "death_day": self.death_day,
            "first_dose_at": self.first_dose_at.isoformat() if self.first_dose_at else None,
            "received_any_dose": self.received_any_dose,
            "rules": ENDPOINT_RULES_VERSION,
            "protocol": {"primary_days": [protocol.primary_first_day, protocol.primary_last_day],
                         "secondary_last_day": protocol.secondary_last_day,
                         "responder_threshold": str(protocol.responder_threshold),
                         "death_sofa_score": protocol.death_sofa_score},
        }


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _gather_inputs(participant_ids: list[int]) -> dict[int, EndpointInputs]:
    """Every input of the endpoints of these participants, in a fixed number of queries.

    Only submitted forms are data, one rule for the three inputs: ``observed_sofa`` drops draft
    SOFA days, and ``death_days`` and ``first_doses`` read submitted forms only."""
    records: dict[int, list[SofaRecord]] = defaultdict(list)
    form_of: dict[tuple[int, int], tuple[int, int]] = {}
    rows = (SofaDay.objects.filter(participant_id__in=participant_ids, status__in=COUNTED_STATUSES)
            .values_list("participant_id", "day", "total", "status", "pk", "version"))
    for pid, day, total, status, pk, version in rows:
        records[pid].append(SofaRecord(day=day, total=total, status=status))
        if status in OBSERVED_STATUSES:
            form_of[(pid, day)] = (pk, version)
    deaths = death_days(participant_ids)
    doses = first_doses(participant_ids)
    out: dict[int, EndpointInputs] = {}
    for pid in participant_ids:
        sofa = observed_sofa(records[pid])
        out[pid] = EndpointInputs(sofa, {day: form_of[(pid, day)] for day in sofa}, deaths.get(pid), doses.get(pid))
    return out


def _result_fields(result: SofaEndpoints) -> dict[str, Any]:
    return {
        "evaluable": result.evaluable,
        "not_evaluable_reason": result.not_evaluable_reason or "",
        "primary_response": result.primary_response,
        "responder": result.responder,
        "secondary_response": result.secondary_response,
        "secondary_responder": result.secondary_responder,
        "alive_on_day9": result.alive_on_day9,
        "mean_sofa_days_1_9": result.mean_sofa_days_1_9,
        "mitt": result.mitt,
        "mitt_reason": result.mitt_reason or "",
        "counts_as_responder_in_analysis": result.counts_as_responder_in_analysis,
        "filled_series": [{"day": d.day, "score": d.score, "source": d.source, "carried_from_day": d.carried_from_day}
                          for d in result.filled_series],
    }


def _days_cause(days: list[str], what: str) -> list[str]:
    if not days:
        return []
    if len(days) == 1:
        return [f"SOFA day {days[0]} {what}"]
    return [f"SOFA days {', '.join(days)} {what}"]


def _fit_reason(reason: str) -> str:
    """A reason is bounded (``REASON_MAX_LENGTH``): a long list of causes is shortened, never
    refused (a derivation must not fail because many inputs changed at once)."""
    return reason if len(reason) <= REASON_MAX_LENGTH else reason[:REASON_MAX_LENGTH - 1] + "…"


def _describe_change(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    if old is None:
        return "Derived"
    old_sofa, new_sofa = old.get("sofa", {}), new["sofa"]
    all_days = sorted(set(old_sofa) | set(new_sofa), key=int)
    causes: list[str] = [
        *_days_cause([d for d in all_days if d not in new_sofa], "withdrawn"),
        *_days_cause([d for d in all_days if d not in old_sofa], "recorded"),
        *_days_cause([d for d in all_days if d in old_sofa and d in new_sofa and old_sofa[d] != new_sofa[d]],
                     "changed"),
    ]
    if old.get("death_day") != new["death_day"]:
        causes.append("day of death changed" if new["death_day"] is not None and old.get("death_day") is not None
                      else ("death recorded" if new["death_day"] is not None else "death withdrawn"))
    if old.get("first_dose_at") != new["first_dose_at"]:
        causes.append("first dose changed")
    if old.get("rules") != new["rules"] or old.get("protocol") != new["protocol"]:
        causes.append("derivation rules changed")
    return _fit_reason("Re-derived: " + ("; ".join(causes) if causes else "inputs changed"))


def _derive(inputs: EndpointInputs, protocol: Protocol) -> tuple[dict[str, Any], dict[str, Any], str]:
    result = derive_sofa_endpoints(sofa_by_day=inputs.sofa_by_day, death_day=inputs.death_day,
                                   received_any_dose=inputs.received_any_dose, protocol=protocol)
    data = inputs.as_json(protocol)
    return _result_fields(result), data, _digest(data)


@transaction.atomic
def endpoint_derive(*, participant_id: int, actor: User | None = None) -> SofaEndpoint | None:
    """Derive (or re-derive) one participant's SOFA endpoints from the stored inputs.

    Idempotent: unchanged inputs write nothing; concurrent runs serialise on the participant's
    row (locked first, as every write path does). Participants not (yet) randomized have no
    endpoints (None); from randomization on every participant has a record, also before any
    dose or SOFA form (mITT false "no_dose", not evaluable "no_day1_sofa").

    Frozen or locked data (invariant 5): when the result would change (new inputs or new
    derivation rules) and a participant, site or study freeze or lock covers the participant,
    the derivation is refused with ``ErrorCode.LOCKED`` and the stored record stays as it was
    locked; an unchanged result is returned as it is, since it writes nothing."""
    participant = Participant.objects.select_for_update().filter(pk=participant_id).first()
    if participant is None or not participant.is_randomized:
        return None
    protocol = current_protocol()
    inputs = _gather_inputs([participant_id])[participant_id]
    fields, data, digest = _derive(inputs, protocol)
    existing = SofaEndpoint.objects.filter(participant_id=participant_id).first()
    if existing is not None and existing.inputs_digest == digest and existing.rules_version == ENDPOINT_RULES_VERSION:
        return existing
    assert_writable(participant=participant)
    endpoint = existing or SofaEndpoint(participant_id=participant_id)
    reason = _describe_change(existing.inputs if existing else None, data)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.inputs, endpoint.inputs_digest = data, digest
    endpoint.rules_version = ENDPOINT_RULES_VERSION
    endpoint.derived_at = timezone.now()
    endpoint._history_user = actor if getattr(actor, "is_authenticated", False) else None
    endpoint._change_reason = reason
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError:  # a concurrent first derivation won; its result is the same
        return SofaEndpoint.objects.get(participant_id=participant_id)
    return endpoint


@dataclass(frozen=True)
class RederiveReport:
    """What a bulk re-derivation did: ``participants`` = created + changed + unchanged +
    skipped_locked. ``skipped_locked`` counts the locked participants whose result would have
    changed (or been created) and was left as locked (invariant 5)."""

    participants: int
    created: int
    changed: int
    unchanged: int
    skipped_locked: int = 0


def endpoints_rederive(*, participant_ids: Iterable[int] | None = None, batch_size: int = 2000,
                       reason: str | None = None) -> RederiveReport:
    """Re-derive the endpoints of many participants (every randomized one by default: each gets
    a record, with the reasons of what it lacks), in batches with a fixed number of queries
    each; only changed results are written, each with a hash-chained history row (the same
    audit as a single derivation). ``participant_ids`` that are not randomized are skipped.

    A participant under a freeze or lock (participant, site or study) is never written: its
    result is computed, and if it differs from the stored one it is counted in
    ``skipped_locked`` and logged, not written; the run goes on with the others."""
    protocol = current_protocol()
    qs = Participant.objects.filter(randomized_at__isnull=False)
    if participant_ids is not None:
        qs = qs.filter(pk__in=list(participant_ids))
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    created = changed = skipped = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        c, u, s = _rederive_batch(chunk, protocol, reason)
        created += c
        changed += u
        skipped += s
    if skipped:
        logger.warning("Endpoint re-derivation: %d locked participant(s) left as locked (their result would change)",
                       skipped)
    return RederiveReport(len(ids), created, changed, len(ids) - created - changed - skipped, skipped)


_ENDPOINT_FIELDS = ("evaluable", "not_evaluable_reason", "primary_response", "responder", "secondary_response",
                    "secondary_responder", "alive_on_day9", "mean_sofa_days_1_9", "mitt", "mitt_reason",
                    "counts_as_responder_in_analysis", "filled_series", "inputs", "inputs_digest", "rules_version",
                    "derived_at")


@transaction.atomic
def _rederive_batch(chunk: list[int], protocol: Protocol, reason: str | None) -> tuple[int, int, int]:
    # Lock order (ecrf.crf.services): the participants first, in pk order, then their endpoint
    # rows; the inputs are read under those locks, so no form write of these participants runs
    # between the read and the write of their results.
    list(Participant.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
    existing = {e.participant_id: e for e in
                SofaEndpoint.objects.select_for_update().filter(participant_id__in=chunk).order_by("participant_id")}
    # Invariant 5: the write guard in its bulk form (the participant, site and study scopes of
    # assert_writable), read after the participant rows are locked, as every write path does.
    locked = locked_participant_ids(participant_ids=chunk)
    inputs = _gather_inputs(chunk)
    now = timezone.now()
    new_rows: list[SofaEndpoint] = []
    updated: list[SofaEndpoint] = []
    skipped = 0
    for pid in chunk:
        fields, data, digest = _derive(inputs[pid], protocol)
        row = existing.get(pid)
        if row is not None and row.inputs_digest == digest and row.rules_version == ENDPOINT_RULES_VERSION:
            continue
        if pid in locked:
            skipped += 1
            continue
        why = _fit_reason(reason) if reason else _describe_change(row.inputs if row else None, data)
        target = row or SofaEndpoint(participant_id=pid)
        for name, value in fields.items():
            setattr(target, name, value)
        target.inputs, target.inputs_digest, target.rules_version, target.derived_at = (
            data, digest, ENDPOINT_RULES_VERSION, now)
        target._change_reason = why
        (updated if row is not None else new_rows).append(target)
    if new_rows:
        SofaEndpoint.objects.bulk_create(new_rows, batch_size=1000)
        if new_rows[0].pk is None:  # a backend without RETURNING: read the ids back
            ids = dict(SofaEndpoint.objects.filter(participant_id__in=[r.participant_id for r in new_rows])
                       .values_list("participant_id", "pk"))
            for r in new_rows:
                r.pk = ids[r.participant_id]
        _bulk_history(new_rows, history_type="+", when=now)
    if updated:
        _bulk_update(updated)
        _bulk_history(updated, history_type="~", when=now)
    return len(new_rows), len(updated), skipped


def _bulk_update(rows: list[SofaEndpoint]) -> None:
    """One parameterised UPDATE per row, sent with executemany (pipelined by psycopg): far
    cheaper than ``bulk_update``'s CASE expressions, which grow with rows x columns."""
    meta = SofaEndpoint._meta
    columns = [meta.get_field(name) for name in _ENDPOINT_FIELDS]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET " + ", ".join(f"{quote(f.column)} = %s" for f in columns)
           + f" WHERE {quote(meta.pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _bulk_history(rows: list[SofaEndpoint], *, history_type: str, when: Any) -> None:
    """History rows for a bulk write, linked into the table's hash chain."""
    model = SofaEndpoint.history.model
    records = [model(history_date=when, history_user=None, history_change_reason=row._change_reason,
                     history_type=history_type,
                     **{f.attname: getattr(row, f.attname) for f in model.tracked_fields})
               for row in rows]
    append_many_to_chain(model, records)
