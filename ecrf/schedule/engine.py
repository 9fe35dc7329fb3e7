"""The schedule engine: a participant's expected forms, their windows and display states.

How another app declares its form's place in the schedule (no change here is needed):

1. Register a ``FormSpec`` (``ecrf.crf.registry.register``) with a stable key, e.g.
   ``"sofa.sofa_day"``.
2. List that key in the visits of ``ecrf/study/visits.py`` (``VisitDef.forms``). A visit has a
   study day and a window (days before / after); keys whose spec is not registered are skipped,
   so a form appears in the casebook grid as soon as its app registers its spec.
3. Say how an entry is matched to its visit:
   - a form entered once per visit has an integer study-day field, ``day`` by default (another
     name with ``FormSpec.schedule_day_field``); an entry with ``day == n`` fills the
     slot of the day-n visit (``one_per=("day",)`` keeps it unique);
   - a form entered once per participant (``one_per=()``, e.g. end of study) fills its one slot;
   - a form with several slots per visit gives ``FormSpec.schedule_slots``: a callable
     ``(ctx: ScheduleContext, visit: VisitDef, spec: FormSpec) -> list[Slot]``
     (the dosing app expands each treatment day into that day's IV and SC dose slots).
4. Display states that later apps add (queried, verified, signed) come from functions
   registered with ``register_state_provider``; freeze and lock come from the write guard's scopes.

What changes what is expected: nothing is expected after death (except end of
study); after withdrawal from treatment, no administrations; after withdrawal from data
collection or data use, nothing but end of study; after permanent discontinuation of a route,
no administrations of that route. An entry that exists is always shown with its state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ecrf.crf.registry import FormSpec
from ecrf.schedule import timeline
from ecrf.study.protocol import Protocol
from ecrf.study.visits import VisitDef


class State:
    NOT_EXPECTED = "not_expected"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DRAFT = "draft"
    ENTERED = "entered"
    NOT_DONE = "not_done"
    QUERIED = "queried"
    VERIFIED = "verified"
    SIGNED = "signed"
    FROZEN = "frozen"
    LOCKED = "locked"
    # Overlays only (shown beside the cell's state, never as it): the review app's stale forms.
    VERIFY_STALE = "verify_stale"
    SIGN_VOID = "sign_void"


STATE_LABELS = {
    State.NOT_EXPECTED: "Not expected", State.UPCOMING: "Upcoming", State.DUE: "Due", State.OVERDUE: "Overdue",
    State.DRAFT: "Draft", State.ENTERED: "Entered", State.NOT_DONE: "Not done", State.QUERIED: "Queried",
    State.VERIFIED: "Verified", State.SIGNED: "Signed", State.FROZEN: "Frozen", State.LOCKED: "Locked",
    State.VERIFY_STALE: "Verification stale", State.SIGN_VOID: "Needs signing again",
}
# The overlays a cell lists beside its state, in this order (queried / verified / signed / frozen / locked).
_OVERLAY_ORDER = [State.QUERIED, State.VERIFIED, State.VERIFY_STALE, State.SIGNED, State.SIGN_VOID, State.FROZEN, State.LOCKED]
# When several apply, the grid shows the strongest (a locked form is locked whatever its SDV).
_PRECEDENCE = [State.LOCKED, State.FROZEN, State.SIGNED, State.QUERIED, State.VERIFIED]


@dataclass(frozen=True)
class Slot:
    key: str  # FormSpec key
    row: str  # grid row id (the key, or key:variant for specs with several rows)
    row_label: str
    day: int | None  # study day of the visit; None for event-driven forms (end of study)
    match: tuple[tuple[str, Any], ...]  # field values that identify the entry filling this slot
    opens_at: dt.datetime  # UTC: due from here
    closes_at: dt.datetime  # UTC: overdue after here
    label: str
    treatment_route: str | None = None  # an administration of this route ("iv" / "sc")
    event_driven: bool = False  # expected whatever happened (end of study)


@dataclass
class ScheduleContext:
    participant: Any
    protocol: Protocol
    now: dt.datetime
    first_dose_at: dt.datetime | None = None
    died_at: dt.datetime | None = None
    withdrawal: Any = None  # adapters.Withdrawal
    discontinued: dict[str, dt.date] = field(default_factory=dict)  # route -> date
    # What an expander computes once per schedule rather than once per visit (the dosing app's
    # dose slots of every day), keyed by the expander's own name; dropped with the context.
    memo: dict[str, Any] = field(default_factory=dict)
    _bounds: dict[int, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> str:
        return self.participant.site.time_zone

    def _day_bounds(self, day: int) -> tuple[dt.datetime, dt.datetime]:
        # Every slot asks for its day's bounds: each day's time-zone arithmetic is done once.
        found = self._bounds.get(day)
        if found is None:
            found = self._bounds[day] = timeline.day_bounds(day, randomized_at=self.participant.randomized_at, tz=self.tz)
        return found

    def day_start(self, day: int) -> dt.datetime:
        return self._day_bounds(day)[0]

    def date_end(self, value: dt.date) -> dt.datetime:
        """The end (UTC) of calendar date ``value`` in the site's zone."""
        day = (value - timeline.date_of_study_day(1, randomized_at=self.participant.randomized_at, tz=self.tz)).days + 1
        return self._day_bounds(day)[1]


@dataclass
class ExpectedForm:
    slot: Slot
    expected: bool
    why_not: str = ""
    entry: Any = None
    state: str = State.NOT_EXPECTED
    overlays: frozenset[str] = frozenset()  # every overlay of the entry, the one shown as its state included

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def overlay_labels(self) -> list[tuple[str, str]]:
        """(code, label) of the overlays other than the state itself, for the cell's badges."""
        return [(o, STATE_LABELS[o]) for o in _OVERLAY_ORDER if o in self.overlays and o != self.state]


SlotExpander = Callable[[ScheduleContext, VisitDef, FormSpec], list[Slot]]


def _expander(spec: FormSpec) -> SlotExpander | None:
    return spec.schedule_slots


def default_slots(ctx: ScheduleContext, visit: VisitDef, spec: FormSpec, *, last_day: int) -> list[Slot]:
    if visit.day is None:
        # Event-driven: due at the end of follow-up, or at once after death or withdrawal.
        opens = ctx.day_start(last_day)
        events = [t for t in (ctx.died_at, ctx.date_end(ctx.withdrawal.date) if _withdrew_all(ctx) else None) if t]
        if events:
            opens = min(min(events), opens)
        closes = ctx.day_start(last_day + 8)
        return [Slot(spec.key, spec.key, spec.label, None, (), opens, max(closes, opens), spec.label, event_driven=True)]
    if spec.one_per == ():
        match: tuple[tuple[str, Any], ...] = ()
    else:
        match = ((spec.schedule_day_field, visit.day),)
    opens = ctx.day_start(visit.day - visit.window_before_days)
    closes = ctx.day_start(visit.day + visit.window_after_days + 1)
    # "SOFA day" on day 13 reads "SOFA day 13", not "SOFA day day 13".
    label = f"{spec.label.removesuffix(' day')} day {visit.day}"
    return [Slot(spec.key, spec.key, spec.label, visit.day, match, opens, closes, label)]


def _withdrew_all(ctx: ScheduleContext) -> bool:
    return ctx.withdrawal is not None and ctx.withdrawal.type in ("data_collection", "data_use") and ctx.withdrawal.date is not None


def slots_for(ctx: ScheduleContext, visits: Iterable[VisitDef], specs: dict[str, FormSpec]) -> list[Slot]:
    visits = list(visits)
    last_day = max(v.day for v in visits if v.day is not None)
    out: list[Slot] = []
    seen_single: set[str] = set()
    for visit in visits:
        if visit.day is not None and visit.day < 1:
            continue  # screening forms belong to the screening pages, not the post-randomization casebook
        for key in visit.forms:
            spec = specs.get(key)
            if spec is None:
                continue  # that app has not registered its form (yet)
            expander = _expander(spec)
            found = expander(ctx, visit, spec) if expander else default_slots(ctx, visit, spec, last_day=last_day)
            for slot in found:
                if slot.match == () and not slot.treatment_route:
                    if slot.key in seen_single:
                        continue
                    seen_single.add(slot.key)
                out.append(slot)
    return out


def why_not_expected(ctx: ScheduleContext, slot: Slot) -> str:
    """Empty if the slot is expected; otherwise the reason it is not."""
    if slot.event_driven:
        return ""
    if ctx.died_at is not None and slot.opens_at > ctx.died_at:
        return "after death"
    w = ctx.withdrawal
    if w is not None and w.date is not None:
        after = slot.opens_at >= ctx.date_end(w.date)
        if after and w.type in ("data_collection", "data_use"):
            return "after withdrawal from data collection"
        if after and slot.treatment_route and w.type == "treatment":
            return "after withdrawal from treatment"
    if slot.treatment_route:
        stopped = ctx.discontinued.get(slot.treatment_route)
        if stopped is not None and slot.opens_at >= ctx.date_end(stopped):
            return "after permanent discontinuation"
    return ""


def entry_state(entry: Any, overlays: set[str]) -> str:
    for state in _PRECEDENCE:
        if state in overlays:
            return state
    return {"draft": State.DRAFT, "submitted": State.ENTERED, "not_done": State.NOT_DONE}.get(entry.status, State.ENTERED)


def missing_state(slot: Slot, expected: bool, now: dt.datetime) -> str:
    if not expected:
        return State.NOT_EXPECTED
    if now < slot.opens_at:
        return State.UPCOMING
    if now < slot.closes_at:
        return State.DUE
    return State.OVERDUE
