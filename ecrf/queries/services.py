"""Every write of the queries app: running the edit checks, and the query workflow.

The engine (``checks_run``) runs each registered check (``ecrf.crf.checks``) as set-based SQL:
one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` around the rule's own query opens the new
queries (the unique key (check code, check version, target) makes two runs at once insert each
problem once), then the check's unresolved queries whose problem is no longer found are closed
("resolved by the check") and its closed queries whose problem came back are reopened, each in
bulk with a hash-chained history row and a message in the query's thread (ARCHITECTURE.md
invariant 2). A run with nothing changed writes nothing but its own bookkeeping row.

Decisions:
- a check's query goes to the site at once (released on opening), as in other EDCs: the site
  acts on automatic checks without a data manager in between; a query raised by hand starts as
  a draft that only the data team sees until it is released;
- closing always takes a message; closing a check's query while the check still finds the
  problem marks it "confirmed as correct" (accepted), so later runs leave it closed; cancelled
  queries (raised in error) are never reopened by a run;
- locked or frozen participants are skipped by runs (nothing about them changes), and raising,
  releasing or reopening a query on them is refused (each asks for a change the lock forbids);
  answering, closing, cancelling and messages go on, as resolving queries is what comes before
  a lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from ecrf.accounts.models import User
from ecrf.accounts.roles import require_role
from ecrf.audit.models import append_many_to_chain
from ecrf.core.errors import DomainError, ErrorCode
from ecrf.crf.annotations import ALL_FIELDS
from ecrf.crf.checks import TARGET_COLUMNS, CheckScope, EditCheck, all_checks
from ecrf.crf.guard import assert_writable, locked_participant_ids
from ecrf.crf.models import CRF, Participant
from ecrf.crf.registry import FormSpec, get_spec
from ecrf.crf.selectors import participants_for
from ecrf.notifications.services import notify
from ecrf.queries.errors import QueryError
from ecrf.queries.models import (
    UNRESOLVED_STATES,
    CheckRequest,
    CheckRun,
    MessageKind,
    Query,
    QueryMessage,
    QueryState,
    RunState,
    RunTrigger,
)
from ecrf.queries.selectors import (
    DATA_TEAM_ROLES,
    RUN_ROLES,
    SITE_ANSWER_ROLES,
    problem_still_found,
    queries_for,
    site_answerers,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
RESOLVED_TEXT = "Resolved: the check no longer finds the problem."
RECURRED_TEXT = "Reopened: the check finds the problem again."


# --- the engine -------------------------------------------------------------------------------

def check_run_request(*, actor: User, participant_ids: Sequence[int] | None = None) -> CheckRun:
    """A data manager's on-demand run: recorded now, run by a worker after the commit; the run's
    page shows its progress. One on-demand run at a time."""
    require_role(actor, RUN_ROLES, "run the edit checks")
    with transaction.atomic():
        busy = CheckRun.objects.select_for_update().filter(
            trigger=RunTrigger.ON_DEMAND, state__in=(RunState.QUEUED, RunState.RUNNING)).first()
        if busy is not None:
            raise DomainError(QueryError.RUN_IN_PROGRESS,
                              f"Check run #{busy.pk} is still {busy.get_state_display().lower()}; "
                              "wait for it to finish (its page shows the progress).")
        run = CheckRun.objects.create(trigger=RunTrigger.ON_DEMAND, requested_by=actor,
                                      participant_ids=sorted(participant_ids) if participant_ids is not None else None,
                                      checks_total=len(all_checks()))
        transaction.on_commit(lambda: _enqueue_run(run.pk))
    return run


def checks_schedule(*, participant_id: int) -> None:
    """Run the checks for one participant after this transaction commits (never inside the
    request): called by the form-write listener, inside the write's transaction. Invariant 9: the
    request is recorded first (``CheckRequest``) and enqueued on commit only when none is pending
    already, so many saves before the worker runs make one run; the task is idempotent (a second
    run finds the same problems and writes nothing)."""
    request, created = CheckRequest.objects.get_or_create(participant_id=participant_id)
    if not created:
        if request.pending:
            return
        request.pending, request.requested_at = True, timezone.now()
        request.save(update_fields=["pending", "requested_at"])
    transaction.on_commit(lambda: _enqueue_participant(participant_id))


def checks_run_requested(*, participant_id: int) -> CheckRun | None:
    """The after-save run of one participant, if a request is pending (None when another worker
    took it): the request is marked taken first, so a save during the run requests a new one."""
    with transaction.atomic():
        request = CheckRequest.objects.select_for_update().filter(participant_id=participant_id, pending=True).first()
        if request is None:
            return None
        request.pending = False
        request.save(update_fields=["pending"])
    return checks_run(trigger=RunTrigger.AFTER_SAVE, participant_ids=[participant_id])


def _enqueue_run(run_id: int) -> None:
    # deferred import: ecrf.queries.tasks imports this module (a task calls a service).
    from ecrf.queries.tasks import run_requested_checks

    run_requested_checks.delay(run_id)


def _enqueue_participant(participant_id: int) -> None:
    # deferred import: ecrf.queries.tasks imports this module (a task calls a service).
    from ecrf.queries.tasks import run_participant_checks

    run_participant_checks.delay(participant_id)


def checks_run(*, trigger: str, participant_ids: Iterable[int] | None = None, actor: User | None = None,
               now: dt.datetime | None = None, checks: Sequence[EditCheck] | None = None,
               run: CheckRun | None = None) -> CheckRun:
    """Run the edit checks (every registered one by default) over ``participant_ids`` (every
    participant by default), as of ``now``; returns the finished ``CheckRun`` with its counts.

    Each check runs in its own transaction, so a check whose rule fails leaves nothing half-written
    (its error is in ``results``) and the run goes on with the others; an on-demand run records
    its progress after each check (its page shows it). Locked or frozen participants are skipped
    and counted."""
    now = now or timezone.now()
    checks = list(checks) if checks is not None else all_checks()
    if run is None:
        run = CheckRun.objects.create(trigger=trigger, requested_by=actor, requested_at=now,
                                      participant_ids=sorted(set(participant_ids)) if participant_ids is not None else None)
    elif run.participant_ids is not None and participant_ids is None:
        participant_ids = run.participant_ids
    run.state, run.started_at, run.checks_total, run.checks_done = RunState.RUNNING, timezone.now(), len(checks), 0
    run.save(update_fields=["state", "started_at", "checks_total", "checks_done"])

    base = Participant.objects.all()
    if participant_ids is not None:
        base = base.filter(pk__in=list(participant_ids))
    ids = list(base.values_list("pk", flat=True))
    # Invariant 5, the guard's bulk form: a locked or frozen participant's queries stay as they are.
    locked = locked_participant_ids(participant_ids=ids)
    run.skipped_locked = len(locked)
    scope = CheckScope(participants=base.exclude(pk__in=sorted(locked)) if locked else base, now=now)
    results: dict[str, dict[str, Any]] = {}
    together = None
    if len(locked) < len(ids) and run.trigger == RunTrigger.AFTER_SAVE:
        # The run after a save covers one participant: every check in three statements rather than
        # four each. A faulty rule makes that statement fail as a whole: then each check runs on
        # its own, as below, so that the others still run and the faulty one is named.
        try:
            with transaction.atomic():
                together = _run_checks_together(checks, scope, run, now)
        except Exception:  # noqa: BLE001  (the per-check path isolates and records the error)
            logger.warning("The after-save checks of run %s fall back to one check at a time", run.pk, exc_info=True)
    if together is not None:
        results = together
        for outcome in together.values():
            run.opened += outcome["opened"]
            run.reopened += outcome["reopened"]
            run.closed += outcome["closed"]
    elif len(locked) < len(ids):
        for check in checks:
            try:
                with transaction.atomic():
                    outcome = _run_check(check, scope, run, now)
            except Exception as exc:  # noqa: BLE001  (one faulty rule must not stop the others)
                logger.exception("Edit check %s failed", check.code)
                outcome = {"opened": 0, "reopened": 0, "closed": 0, "error": f"{type(exc).__name__}: {exc}"}
            results[check.code] = {"version": check.version, **outcome}
            run.opened += outcome["opened"]
            run.reopened += outcome["reopened"]
            run.closed += outcome["closed"]
            run.checks_done += 1
            run.results = results
            if run.trigger == RunTrigger.ON_DEMAND:  # someone watches its page: show how far it got
                run.save(update_fields=["opened", "reopened", "closed", "checks_done", "results"])
    run.checks_done = len(checks)
    run.state, run.finished_at, run.results = RunState.DONE, timezone.now(), results
    run.save(update_fields=["state", "finished_at", "results", "checks_done", "skipped_locked", "opened", "reopened",
                            "closed"])
    return run


def _form_type_id(spec: FormSpec) -> int:
    return ContentType.objects.get_for_model(spec.model).pk


def _found_sql(check: EditCheck, scope: CheckScope) -> tuple[str, list[Any], str, list[Any]]:
    """The rule's SQL as a derived table ``found`` and the SQL of each row's target key (the same
    text as ``ecrf.crf.checks.target_key``)."""
    qs = check.rule(scope).values(*TARGET_COLUMNS).order_by()
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    key_sql = ("CAST(%s AS TEXT) || ':' || CAST(found.participant_id AS TEXT) || ':' || "
               "COALESCE(CAST(found.form_id AS TEXT), '-') || ':' || COALESCE(CAST(found.item AS TEXT), '')")
    return f"({sql}) found", list(params), key_sql, [check.form]


def _run_check(check: EditCheck, scope: CheckScope, run: CheckRun, now: dt.datetime) -> dict[str, int]:
    compiled = _found_sql(check, scope)
    inserted = _insert_found([_select_found(check, compiled, run, now)])
    mine = Query.objects.filter(check_code=check.code, check_version=check.version)
    opened = list(mine.filter(opened_by_run=run).order_by("pk")) if inserted else []
    _history(opened, history_type="+", when=now, user=None,
             reason=f"Opened by edit check {check.code} v{check.version}")

    found, found_params, key_sql, key_params = compiled
    # The rule's own compiled SQL with its parameters kept apart: no user text reaches the string.
    targets = RawSQL(f"SELECT {key_sql} FROM {found}", [*key_params, *found_params])  # noqa: S611
    # One statement finds both changes, under row locks: unresolved queries whose problem is no
    # longer found (resolved) and closed ones, not confirmed as correct, whose problem is back.
    changing = list(mine.filter(participant__in=scope.participants.values("pk"), accepted=False)
                    .filter(Q(state__in=UNRESOLVED_STATES) & ~Q(target_key__in=targets)
                            | Q(state=QueryState.CLOSED, target_key__in=targets))
                    .select_for_update().order_by("pk"))
    gone, back = _apply_changes(changing, now)
    return {"opened": len(opened), "reopened": len(back), "closed": len(gone)}


_INSERT_COLUMNS = ["participant_id", "form_type_id", "form_id", "form_key", "field", "item", "check_code",
                   "check_version", "target_key", "text", "severity", "state", "released_at", "accepted",
                   "auto_closed", "assignee_role", "opened_by_run_id", "opened_at", "updated_at"]
_SELECT = ("SELECT DISTINCT found.participant_id, %s, CAST(found.form_id AS BIGINT), %s, %s, "
           "COALESCE(CAST(found.item AS TEXT), ''), %s, %s, {key}, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s")


def _select_found(check: EditCheck, found: tuple[str, list[Any], str, list[Any]], run: CheckRun,
                  now: dt.datetime) -> tuple[str, list[Any]]:
    """``SELECT ... FROM (rule) found``: the rows ``check`` would open, as Query columns (``found``:
    the rule's compiled SQL from ``_found_sql``)."""
    spec = get_spec(check.form)
    found_table, found_params, key_sql, key_params = found
    field = check.fields[0] if len(check.fields) == 1 else ALL_FIELDS
    params = [_form_type_id(spec), check.form, field, check.code, check.version, *key_params, check.message,
              str(check.severity), QueryState.OPEN, now, False, False, "", run.pk, now, now]
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
    return f"{_SELECT.format(key=key_sql)} FROM {found_table} WHERE true", [*params, *found_params]


def _insert_found(selects: list[tuple[str, list[Any]]]) -> int:
    """One ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` of the found rows of one or more checks."""
    table = connection.ops.quote_name(Query._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    union = " UNION ALL ".join(sql for sql, _ in selects)
    sql = (f"INSERT INTO {table} ({columns}) SELECT * FROM ({union}) AS opening WHERE true ON CONFLICT DO NOTHING"
           if len(selects) > 1 else f"INSERT INTO {table} ({columns}) {selects[0][0]} ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [p for _, params in selects for p in params])
        return cursor.rowcount


def _apply_changes(changing: list[Query], now: dt.datetime) -> tuple[list[Query], list[Query]]:
    """Close the unresolved queries whose problem is gone and reopen the closed ones whose problem
    is back, each with its history and thread message; returns (closed, reopened)."""
    gone = [q for q in changing if q.state in UNRESOLVED_STATES]
    back = [q for q in changing if q.state == QueryState.CLOSED]
    for q in gone:
        q.state, q.auto_closed, q.closed_at, q.closed_by_id, q.updated_at = QueryState.CLOSED, True, now, None, now
    _bulk_save(gone, ["state", "auto_closed", "closed_at", "closed_by_id", "updated_at"])
    _history(gone, history_type="~", when=now, user=None, reason=RESOLVED_TEXT)
    _messages(gone, kind=MessageKind.RESOLVED, text=RESOLVED_TEXT, when=now)

    for q in back:
        q.state, q.auto_closed, q.closed_at, q.closed_by_id, q.answered_at, q.updated_at = (
            QueryState.OPEN, False, None, None, None, now)
    _bulk_save(back, ["state", "auto_closed", "closed_at", "closed_by_id", "answered_at", "updated_at"])
    _history(back, history_type="~", when=now, user=None, reason=RECURRED_TEXT)
    _messages(back, kind=MessageKind.RECURRED, text=RECURRED_TEXT, when=now)
    return gone, back


def _run_checks_together(checks: Sequence[EditCheck], scope: CheckScope, run: CheckRun,
                         now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Every check in one INSERT of all their found rows, one read of what it opened, and one read,
    under row locks, of the queries whose problem has gone or come back (matched on check code,
    version and target together); the same outcome as running them one by one."""
    if not checks:
        return {}
    # Each rule compiled once (building and compiling the querysets is most of this run's cost).
    compiled = {check.code: _found_sql(check, scope) for check in checks}
    inserted = _insert_found([_select_found(check, compiled[check.code], run, now) for check in checks])
    opened = list(Query.objects.filter(opened_by_run=run).order_by("pk")) if inserted else []
    for check in checks:
        mine = [q for q in opened if q.check_code == check.code and q.check_version == check.version]
        _history(mine, history_type="+", when=now, user=None, reason=f"Opened by edit check {check.code} v{check.version}")

    # (code, version, target) of every problem found now, as one text per row on both sides.
    found_sql, found_params = [], []
    for check in checks:
        found, params, key_sql, key_params = compiled[check.code]
        found_sql.append(f"SELECT CAST(%s AS TEXT) || '@' || CAST(%s AS TEXT) || '@' || {key_sql} FROM {found}")
        found_params += [check.code, str(check.version), *key_params, *params]
    targets = RawSQL(" UNION ALL ".join(found_sql), found_params)  # noqa: S611  (compiled rules, parameters apart)
    versions = Q()
    for check in checks:
        versions |= Q(check_code=check.code, check_version=check.version)
    keyed = (Query.objects.filter(versions, participant__in=scope.participants.values("pk"), accepted=False)
             .annotate(found_key=Concat("check_code", Value("@"), Cast("check_version", CharField()), Value("@"),
                                        "target_key", output_field=CharField())))
    changing = list(keyed.filter(Q(state__in=UNRESOLVED_STATES) & ~Q(found_key__in=targets)
                                 | Q(state=QueryState.CLOSED, found_key__in=targets))
                    .select_for_update().order_by("pk"))
    gone, back = _apply_changes(changing, now)
    results: dict[str, dict[str, Any]] = {}
    for check in checks:
        def count(rows: list[Query], check: EditCheck = check) -> int:
            return sum(1 for q in rows if q.check_code == check.code and q.check_version == check.version)
        results[check.code] = {"version": check.version, "opened": count(opened), "reopened": count(back),
                               "closed": count(gone)}
    return results


def _bulk_save(rows: list[Query], fields: list[str]) -> None:
    """One parameterised UPDATE per row (executemany), the history written beside it by the
    caller: never ``QuerySet.update()``, which writes none (invariant 2)."""
    if not rows:
        return
    meta = Query._meta
    columns = [meta.get_field(name.removesuffix("_id")) if name.endswith("_id") else meta.get_field(name)
               for name in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET " + ", ".join(f"{quote(f.column)} = %s" for f in columns)
           + f" WHERE {quote(meta.pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _history(rows: list[Query], *, history_type: str, when: dt.datetime, user: User | None, reason: str) -> None:
    """History rows for a bulk write, linked into the table's hash chain."""
    if not rows:
        return
    model = Query.history.model
    records = [model(history_date=when, history_user=user, history_change_reason=reason, history_type=history_type,
                     **{f.attname: getattr(row, f.attname) for f in model.tracked_fields})
               for row in rows]
    append_many_to_chain(model, records)


def _messages(rows: list[Query], *, kind: str, text: str, when: dt.datetime) -> None:
    if rows:
        append_many_to_chain(QueryMessage, [QueryMessage(query_id=q.pk, kind=kind, text=text, at=when,
                                                         internal=q.is_draft) for q in rows])


# --- the workflow -----------------------------------------------------------------------------

def _text(text: str | None, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(QueryError.TEXT_REQUIRED, f"Write {what}.", fields={"text": f"Write {what}."})
    if len(text) > MAX_TEXT:
        raise DomainError(QueryError.TEXT_TOO_LONG, f"Keep the text under {MAX_TEXT} characters.",
                          fields={"text": f"At most {MAX_TEXT} characters."})
    return text


def _locked_query(actor: User, query: Query) -> Query:
    """Re-read ``query`` under a row lock, within what ``actor`` may see (404 otherwise)."""
    visible = queries_for(actor).filter(pk=query.pk).values("pk")
    locked = Query.objects.select_for_update().filter(pk__in=visible).first()
    if locked is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such query, or it is not visible to you.")
    return locked


def _save(query: Query, *, actor: User, reason: str, fields: list[str], now: dt.datetime) -> None:
    query.updated_at = now
    query._history_user = actor
    query._change_reason = reason
    query.save(update_fields=[*fields, "updated_at"])


def _message(query: Query, *, actor: User | None, kind: str, text: str, now: dt.datetime) -> QueryMessage:
    message = QueryMessage(query=query, kind=kind, author=actor, text=text, at=now, internal=query.is_draft)
    message.save()
    return message


def _refuse_unless_unresolved(query: Query, action: str) -> None:
    if query.state not in UNRESOLVED_STATES:
        raise DomainError(QueryError.RESOLVED,
                          f"This query is already {query.get_state_display().lower()}; reopen it first to {action}.")


@transaction.atomic
def query_raise(*, actor: User, spec: FormSpec, form: CRF, field: str, text: str,
                assignee: User | None = None) -> Query:
    """A data manager or monitor asks the site about ``field`` of ``form`` (``""``: the whole
    form). It starts as a draft that only the data team sees until it is released."""
    require_role(actor, DATA_TEAM_ROLES, "raise queries")
    text = _text(text, what="the question for the site")
    allowed = (*spec.fields, *spec.derived_fields)
    if field != ALL_FIELDS and field not in allowed:
        raise DomainError(QueryError.UNKNOWN_FIELD, f"{spec.label} has no field {field!r}.",
                          fields={"field": f"Choose one of: {', '.join(allowed)}, or leave it empty for the whole form."})
    participant = form.participant
    if not participants_for(actor, spec.read_roles | spec.correction_roles).filter(pk=participant.pk).exists():
        raise DomainError(ErrorCode.NOT_FOUND, f"No such {spec.label}, or it is not visible to you.")
    assert_writable(participant=participant, form=form)
    now = timezone.now()
    query = Query(participant=participant, form_type=ContentType.objects.get_for_model(spec.model), form_id=form.pk,
                  form_key=spec.key, field=field, item="", text=text, target_key=f"manual:{spec.key}:{form.pk}:{field}",
                  state=QueryState.OPEN, raised_by=actor, assignee=assignee, assignee_role="", opened_at=now,
                  updated_at=now)
    query._history_user = actor
    query._change_reason = "Raised by hand (draft)"
    query.full_clean()
    query.save()
    _message(query, actor=actor, kind=MessageKind.RAISED, text=text, now=now)
    return query


@transaction.atomic
def query_release(*, actor: User, query: Query) -> Query:
    """Send a draft to the site."""
    require_role(actor, DATA_TEAM_ROLES, "release queries")
    query = _locked_query(actor, query)
    if not query.is_draft:
        raise DomainError(QueryError.ALREADY_RELEASED, "This query was already released to the site.")
    _refuse_unless_unresolved(query, "release it")
    assert_writable(participant=query.participant)
    now = timezone.now()
    query.released_at, query.released_by = now, actor
    _save(query, actor=actor, reason="Released to the site", fields=["released_at", "released_by"], now=now)
    _message(query, actor=actor, kind=MessageKind.RELEASED, text="", now=now)
    _notify_answerers(query)
    return query


def answerers(query: Query) -> list[User]:
    """Who at the participant's site is asked to answer ``query``: its assignee; else the
    active holders of its assigned role there; else every investigator and coordinator there."""
    if query.assignee_id is not None:
        return [query.assignee] if query.assignee.is_active else []
    roles = [query.assignee_role] if query.assignee_role else SITE_ANSWER_ROLES
    return list(site_answerers(query.participant.site_id, roles).order_by("pk"))


def _notify_answerers(query: Query) -> None:
    """Tell the site that a released query waits for it (once per query and person)."""
    notify(recipients=answerers(query), kind="query_released", source=f"queries.query:{query.pk}",
           subject=f"Data query on participant {query.participant.screening_number}",
           body=query.text,
           link=reverse("queries:detail", kwargs={"pk": query.pk}))


@transaction.atomic
def query_assign(*, actor: User, query: Query, assignee: User | None = None, role: str = "") -> Query:
    """Assign ``query`` to one person at the participant's site who answers queries, or to one
    of the site's answering roles, or to nobody (both empty: the site's answerers at large). A
    released query tells its new assignee at once."""
    require_role(actor, DATA_TEAM_ROLES, "assign queries")
    query = _locked_query(actor, query)
    _refuse_unless_unresolved(query, "assign it")
    if assignee is not None and role:
        raise DomainError(QueryError.BAD_ASSIGNEE, "Assign the query to a person or to a role, not both.",
                          fields={"assignee": "Give a person or a role."})
    if role and role not in SITE_ANSWER_ROLES:
        raise DomainError(QueryError.BAD_ASSIGNEE, "Only the site's investigators or coordinators answer queries.",
                          fields={"role": f"Choose one of: {', '.join(sorted(SITE_ANSWER_ROLES))}."})
    if assignee is not None:
        if not site_answerers(query.participant.site_id).filter(pk=assignee.pk).exists():
            raise DomainError(QueryError.BAD_ASSIGNEE,
                              f"{assignee.get_username()} is not an active investigator or coordinator of site "
                              f"{query.participant.site.code}.", fields={"assignee": "Choose someone at the participant's site."})
    now = timezone.now()
    query.assignee, query.assignee_role = assignee, role
    who = assignee.get_username() if assignee is not None else (role or "the site's investigators and coordinators")
    _save(query, actor=actor, reason=f"Assigned to {who}", fields=["assignee", "assignee_role"], now=now)
    _message(query, actor=actor, kind=MessageKind.MESSAGE, text=f"Assigned to {who}.", now=now)
    if not query.is_draft:
        _notify_answerers(query)
    return query


@transaction.atomic
def query_release_many(*, actor: User, query_ids: Sequence[int]) -> list[Query]:
    """Release several drafts at once; any that cannot be released refuses the whole batch."""
    if not query_ids:
        raise DomainError(QueryError.NOTHING_SELECTED, "Select the queries to release.")
    return [query_release(actor=actor, query=Query(pk=pk)) for pk in sorted(set(query_ids))]


@transaction.atomic
def query_answer(*, actor: User, query: Query, text: str) -> Query:
    """The site answers (investigator or coordinator of the participant's site)."""
    require_role(actor, SITE_ANSWER_ROLES, "answer queries")
    text = _text(text, what="your answer")
    query = _locked_query(actor, query)
    if query.is_draft:
        raise DomainError(QueryError.NOT_RELEASED, "This query has not been released to the site yet.")
    if query.state != QueryState.OPEN:
        raise DomainError(QueryError.NOT_OPEN, f"This query is {query.get_state_display().lower()}: "
                          + ("add a message instead of a second answer." if query.state == QueryState.ANSWERED
                             else "it needs no answer."))
    now = timezone.now()
    query.state, query.answered_at = QueryState.ANSWERED, now
    _save(query, actor=actor, reason="Answered by the site", fields=["state", "answered_at"], now=now)
    _message(query, actor=actor, kind=MessageKind.ANSWER, text=text, now=now)
    return query


@transaction.atomic
def query_close(*, actor: User, query: Query, text: str) -> Query:
    """The data team closes a query, saying why. A check's query whose problem the check still
    finds is closed as "confirmed as correct" (accepted): later runs leave it closed."""
    require_role(actor, DATA_TEAM_ROLES, "close queries")
    text = _text(text, what="why the query is resolved (closing needs a message)")
    query = _locked_query(actor, query)
    _refuse_unless_unresolved(query, "close it")
    if query.is_draft:
        raise DomainError(QueryError.DRAFT_NOT_CLOSABLE, "This draft was never sent to the site: cancel it instead.")
    now = timezone.now()
    query.accepted = problem_still_found(query, now=now)
    query.state, query.closed_at, query.closed_by, query.auto_closed = QueryState.CLOSED, now, actor, False
    reason = "Closed, confirmed as correct" if query.accepted else "Closed"
    _save(query, actor=actor, reason=f"{reason}: {text}"[:500], fields=["state", "closed_at", "closed_by", "accepted",
                                                                       "auto_closed"], now=now)
    _message(query, actor=actor, kind=MessageKind.ACCEPTED if query.accepted else MessageKind.CLOSED, text=text, now=now)
    return query


@transaction.atomic
def query_close_many(*, actor: User, query_ids: Sequence[int], text: str) -> list[Query]:
    """Close several queries with one reason; any that cannot be closed refuses the whole batch."""
    if not query_ids:
        raise DomainError(QueryError.NOTHING_SELECTED, "Select the queries to close.")
    return [query_close(actor=actor, query=Query(pk=pk), text=text) for pk in sorted(set(query_ids))]


@transaction.atomic
def query_reopen(*, actor: User, query: Query, text: str) -> Query:
    """Send an answered query back to the site, or reopen a closed one, saying why."""
    require_role(actor, DATA_TEAM_ROLES, "reopen queries")
    text = _text(text, what="why the query is reopened")
    query = _locked_query(actor, query)
    if query.state not in (QueryState.ANSWERED, QueryState.CLOSED):
        raise DomainError(QueryError.NOT_REOPENABLE, f"This query is {query.get_state_display().lower()}; only "
                          "an answered or closed query can be reopened" + (
                              " (a cancelled one was raised in error: raise a new one)."
                              if query.state == QueryState.CANCELLED else "."))
    assert_writable(participant=query.participant)
    now = timezone.now()
    query.state, query.accepted, query.auto_closed, query.closed_at, query.closed_by = (
        QueryState.OPEN, False, False, None, None)
    query.answered_at = None
    _save(query, actor=actor, reason=f"Reopened: {text}"[:500],
          fields=["state", "accepted", "auto_closed", "closed_at", "closed_by", "answered_at"], now=now)
    _message(query, actor=actor, kind=MessageKind.REOPENED, text=text, now=now)
    return query


@transaction.atomic
def query_cancel(*, actor: User, query: Query, text: str) -> Query:
    """Withdraw a query raised in error (a draft or an unresolved released one), saying why."""
    require_role(actor, DATA_TEAM_ROLES, "cancel queries")
    text = _text(text, what="why the query is cancelled")
    query = _locked_query(actor, query)
    _refuse_unless_unresolved(query, "cancel it")
    now = timezone.now()
    query.state, query.closed_at, query.closed_by = QueryState.CANCELLED, now, actor
    _save(query, actor=actor, reason=f"Cancelled: {text}"[:500], fields=["state", "closed_at", "closed_by"], now=now)
    _message(query, actor=actor, kind=MessageKind.CANCELLED, text=text, now=now)
    return query


@transaction.atomic
def query_message(*, actor: User, query: Query, text: str) -> QueryMessage:
    """A message in an unresolved query's thread (internal to the data team while a draft)."""
    require_role(actor, DATA_TEAM_ROLES | SITE_ANSWER_ROLES, "write in queries")
    text = _text(text, what="a message")
    query = _locked_query(actor, query)
    _refuse_unless_unresolved(query, "write in it")
    now = timezone.now()
    return _message(query, actor=actor, kind=MessageKind.MESSAGE, text=text, now=now)
