"""The participant's schedule for a user: expected forms and the casebook grid.

Query cost is fixed whatever the number of entered forms, and whatever the number of
participants (``build_schedules``): the protocol, one query per scheduled form type, deaths,
withdrawals, discontinuations, the freeze/lock scopes, plus what registered state providers need
(each a fixed number, set-based over the participants).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from ecrf.accounts.roles import CASEBOOK_READ_ROLES
from ecrf.schedule.errors import ScheduleError
from ecrf.core.errors import DomainError
from ecrf.crf.models import EntryStatus, LockScope
from ecrf.crf.registry import FormSpec, all_specs
from ecrf.crf.selectors import can_read_forms, participant_get
from ecrf.schedule import adapters
from ecrf.schedule.engine import (
    STATE_LABELS,
    ExpectedForm,
    ScheduleContext,
    State,
    entry_state,
    missing_state,
    slots_for,
    why_not_expected,
)
from ecrf.study.services import current_protocol
from ecrf.study.visits import visit_schedule
from ecrf.dosing.selectors import discontinuations_by_participant
from ecrf.outcomes.selectors import deaths_for

# (participants, their entries) -> {(content type id, pk): {state, ...}}: queried / verified /
# signed overlays from later apps; each must cost a fixed number of queries whatever the number
# of participants (``participant_id__in``, never one query per participant).
StateProvider = Callable[[list[Any], list[Any]], dict[tuple[int, int], set[str]]]
_STATE_PROVIDERS: list[StateProvider] = []


def register_state_provider(func: StateProvider) -> StateProvider:
    if func not in _STATE_PROVIDERS:
        _STATE_PROVIDERS.append(func)
    return func


def _lock_overlays(participants: list[Any], entries: list[Any], cts: dict[type, int]) -> dict[tuple[int, int], set[str]]:
    """Frozen / locked on each entry: the study's, its site's and its participant's active scopes,
    and the scopes on the form itself, in one query."""
    pids = [p.pk for p in participants]
    # Form scopes are matched by (type, id) through a subquery per form table, not by a list of
    # every entry id (which would grow with the trial's size).
    on_forms = Q()
    for model, ct in cts.items():
        on_forms |= Q(form_type_id=ct, form_id__in=model.objects.filter(participant_id__in=pids).values("pk"))
    scopes = list(LockScope.objects.filter(
        Q(level="study") | Q(level="site", site_id__in={p.site_id for p in participants})
        | Q(level="participant", participant_id__in=pids) | (Q(level="form") & on_forms), released_at__isnull=True))
    broad_study: set[str] = set()
    broad_site: dict[Any, set[str]] = {}
    broad_participant: dict[Any, set[str]] = {}
    per_form: dict[tuple[int, int], set[str]] = {}
    for s in scopes:
        mark = "locked" if s.kind == "lock" else "frozen"
        if s.level == "study":
            broad_study.add(mark)
        elif s.level == "site":
            broad_site.setdefault(s.site_id, set()).add(mark)
        elif s.level == "participant":
            broad_participant.setdefault(s.participant_id, set()).add(mark)
        else:
            per_form.setdefault((s.form_type_id, s.form_id), set()).add(mark)
    site_of = {p.pk: p.site_id for p in participants}
    out: dict[tuple[int, int], set[str]] = {}
    for e in entries:
        ct = cts[type(e)]
        out[(ct, e.pk)] = (broad_study | broad_site.get(site_of[e.participant_id], set())
                           | broad_participant.get(e.participant_id, set()) | per_form.get((ct, e.pk), set()))
    return out


def _scheduled_specs(protocol: Any) -> tuple[list[Any], dict[str, FormSpec]]:
    """The visits and the registered specs of the forms they schedule after randomization (the
    screening visit's forms belong to the screening pages: their tables are not read here)."""
    visits = list(visit_schedule(protocol))
    registered = {s.key: s for s in all_specs()}
    keys = {k for v in visits if v.day is None or v.day >= 1 for k in v.forms}
    return visits, {k: registered[k] for k in keys if k in registered}


@dataclass
class Schedule:
    participant: Any
    context: ScheduleContext
    forms: list[ExpectedForm]
    specs: dict[str, FormSpec] = field(default_factory=dict)


def build_schedule(participant: Any, *, now: Any = None) -> Schedule:
    """The participant's expected forms (no access check: callers use ``expected_forms``)."""
    return build_schedules([participant], now=now)[participant.pk]


def build_schedules(participants: Iterable[Any], *, now: Any = None, overlays: bool = True) -> dict[Any, Schedule]:
    """participant pk -> schedule, for many participants at a fixed number of queries: one per
    scheduled form table, the deaths, the withdrawals, the discontinuations, the freeze/lock
    scopes and what each state provider needs, whatever the number of participants (the
    caller chunks a very large set to bound memory). Every participant must be randomized.

    ``overlays=False`` skips the freeze/lock scopes and the state providers: each entry's state
    is then its own status only (draft, entered, not done) and no form has overlays, while the
    slots, windows, expectations and the states of missing forms are unchanged. Only for a
    caller that reads nothing an overlay changes (the participant page's header)."""
    participants = list(participants)
    for participant in participants:
        if participant.randomized_at is None:
            raise DomainError(ScheduleError.NOT_RANDOMIZED, "The schedule starts at randomization; this participant is not randomized.")
    if not participants:
        return {}
    # Each schedule reads its site's time zone: the sites not already loaded, in one query.
    prefetch_related_objects(participants, "site")
    protocol = current_protocol()
    visits, specs = _scheduled_specs(protocol)
    pids = [p.pk for p in participants]
    entries: dict[Any, dict[str, list[Any]]] = {pid: {} for pid in pids}
    for key, spec in sorted(specs.items()):
        for entry in (spec.model.objects.filter(participant_id__in=pids)
                      .exclude(status=EntryStatus.RETRACTED).order_by("pk")):
            entries[entry.participant_id].setdefault(key, []).append(entry)
    deaths = deaths_for(pids)
    withdrawals = adapters.withdrawals_for(pids)
    discontinuations = discontinuations_by_participant(pids)
    all_entries = [e for by_key in entries.values() for es in by_key.values() for e in es]
    # The content types of every scheduled form at once (cached by Django after the first call),
    # so the cost does not depend on which forms have entries yet.
    cts = {model: ct.pk for model, ct in ContentType.objects.get_for_models(*{s.model for s in specs.values()}).items()}
    marks: dict[tuple[int, int], set[str]] = {}
    if overlays:
        marks = _lock_overlays(participants, all_entries, cts)
        for provider in _STATE_PROVIDERS:
            for k, states in provider(participants, all_entries).items():
                marks.setdefault(k, set()).update(states)
    now = now or timezone.now()
    out: dict[Any, Schedule] = {}
    for participant in participants:
        ctx = ScheduleContext(participant=participant, protocol=protocol, now=now)
        death = deaths.get(participant.pk)
        ctx.died_at = death.died_at if death else None
        ctx.withdrawal = withdrawals.get(participant.pk)
        for d in discontinuations.get(participant.pk, []):
            for route in (("iv", "sc") if d.route == "both" else (d.route,)):
                ctx.discontinued[route] = min(ctx.discontinued.get(route, d.discontinued_on), d.discontinued_on)
        out[participant.pk] = _schedule_of(ctx, visits, specs, entries[participant.pk], cts, marks)
    return out


def _schedule_of(ctx: ScheduleContext, visits: list[Any], specs: dict[str, FormSpec], entries_by_key: dict[str, list[Any]],
                 cts: dict[type, int], overlays: dict[tuple[int, int], set[str]]) -> Schedule:
    """One participant's schedule from what ``build_schedules`` read (no query)."""
    doses = [e for e in entries_by_key.get("dosing.administration", []) if e.given and e.started_at]
    ctx.first_dose_at = min((e.started_at for e in doses), default=None)
    slots = slots_for(ctx, visits, specs)
    # Each entry is indexed once per (form, matching fields) pair, not once per slot: the
    # matching is linear in slots + entries (a full treatment has ~90 slots and ~70 entries).
    index: dict[tuple[str, tuple[Any, ...]], Any] = {}
    for key, fields in dict.fromkeys((slot.key, tuple(name for name, _ in slot.match)) for slot in slots):
        for entry in entries_by_key.get(key, []):
            index.setdefault((key, fields + tuple(getattr(entry, f) for f in fields)), entry)
    forms: list[ExpectedForm] = []
    for slot in slots:
        fields = tuple(name for name, _ in slot.match)
        entry = index.get((slot.key, fields + tuple(v for _, v in slot.match)))
        why = why_not_expected(ctx, slot)
        expected = not why
        if entry is not None:
            ct = cts[type(entry)]
            marks = frozenset(overlays.get((ct, entry.pk), set()))
            state = entry_state(entry, set(marks))
        else:
            marks = frozenset()
            state = missing_state(slot, expected, ctx.now)
        forms.append(ExpectedForm(slot=slot, expected=expected, why_not=why, entry=entry, state=state, overlays=marks))
    return Schedule(participant=ctx.participant, context=ctx, forms=forms, specs=specs)


def expected_forms(participant: Any, *, user: Any = None, now: Any = None) -> list[ExpectedForm]:
    """Each expected form (and each slot no longer expected) with its window and display state.

    With ``user``, the participant is fetched through the site-scoped selector first (404 when
    not visible) and only form types the user may read are returned."""
    if user is not None:
        participant = participant_get(user, participant.pk, CASEBOOK_READ_ROLES)
    schedule = build_schedule(participant, now=now)
    if user is None:
        return schedule.forms
    return [f for f in schedule.forms if can_read_forms(user, schedule.specs[f.slot.key])]


@dataclass
class Cell:
    forms: list[ExpectedForm]


@dataclass
class Row:
    id: str
    label: str
    spec: FormSpec
    cells: dict[Any, list[ExpectedForm]]


@dataclass
class Grid:
    participant: Any
    columns: list[Any]  # study days, then "eos"
    rows: list[Row]
    schedule: Schedule
    legend: dict[str, str] = field(default_factory=lambda: dict(STATE_LABELS))


def casebook_grid(user: Any, participant_id: Any, *, now: Any = None) -> Grid:
    """The casebook grid: study days x forms, each cell the display states of its slots."""
    participant = participant_get(user, participant_id, CASEBOOK_READ_ROLES)
    schedule = build_schedule(participant, now=now)
    rows: dict[str, Row] = {}
    columns: list[Any] = []
    for form in schedule.forms:
        spec = schedule.specs[form.slot.key]
        if not can_read_forms(user, spec):
            continue
        column = form.slot.day if form.slot.day is not None else "eos"
        if column not in columns:
            columns.append(column)
        row = rows.setdefault(form.slot.row, Row(form.slot.row, form.slot.row_label, spec, {}))
        row.cells.setdefault(column, []).append(form)
    columns.sort(key=lambda c: (c == "eos", c if c != "eos" else 0))
    return Grid(participant=participant, columns=columns, rows=list(rows.values()), schedule=schedule)


__all__ = ["State", "build_schedule", "build_schedules", "casebook_grid", "expected_forms", "register_state_provider"]
