"""The review app's conditions of the study-lock gate (``ecrf.review.gate``): every expected form
entered or marked not done, the verification the plan requires done, every casebook signed.
Each blocker names the participant and links to the page where it is fixed. Only randomized
participants have a casebook; a screen failure blocks nothing."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import ngettext

from ecrf.crf.models import Participant
from ecrf.review import selectors
from ecrf.review.gate import Blocker, register_blocker
from ecrf.schedule.engine import State
from ecrf.schedule.selectors import build_schedules

_MISSING = {State.UPCOMING, State.DUE, State.OVERDUE, State.DRAFT}


def _randomized(site_id: Any) -> list[Participant]:
    qs = Participant.objects.filter(randomized_at__isnull=False).select_related("site").order_by("site__code", "pk")
    return list(qs if site_id is None else qs.filter(site_id=site_id))


# Participants whose schedules are built together: the queries per chunk are a fixed number,
# and the rows held in memory are bounded by the chunk, not by the trial.
SCHEDULE_CHUNK = 500


@register_blocker
def entry_blockers(site_id: Any) -> list[Blocker]:
    # The schedule of each randomized participant is the only definition of "expected"; they are
    # built set-based, a chunk of participants at a time.
    participants = _randomized(site_id)
    out = []
    for start in range(0, len(participants), SCHEDULE_CHUNK):
        chunk = participants[start:start + SCHEDULE_CHUNK]
        schedules = build_schedules(chunk)
        out += [b for p in chunk if (b := _entry_blocker(p, schedules[p.pk].forms)) is not None]
    return out


def _entry_blocker(p: Participant, forms: list[Any]) -> Blocker | None:
    missing = [f for f in forms if f.expected and f.state in _MISSING]
    if not missing:
        return None
    names = ", ".join(f.slot.label for f in missing[:5]) + (" ..." if len(missing) > 5 else "")
    count = ngettext("%(n)d expected form not entered or still a draft",
                     "%(n)d expected forms not entered or still drafts", len(missing)) % {"n": len(missing)}
    return Blocker("entry", f"{p.label} (site {p.site.code}): {count}: {names}", p.pk,
                   reverse("schedule:casebook", args=[p.pk]))


@register_blocker
def verification_blockers(site_id: Any) -> list[Blocker]:
    participants = _randomized(site_id)
    reviews = selectors.reviews_for_participants([p.pk for p in participants])
    out = []
    for p in participants:
        progress = selectors.progress_of(reviews.get(p.pk, []))
        pending = progress.required - progress.verified
        if pending:
            stale = f", {progress.stale} stale" if progress.stale else ""
            count = ngettext("%(n)d form awaiting source data verification",
                             "%(n)d forms awaiting source data verification", pending) % {"n": pending}
            out.append(Blocker("verification", f"{p.label} (site {p.site.code}): {count}{stale}", p.pk,
                               reverse("review:participant-sdv", args=[p.pk])))
    return out


@register_blocker
def signature_blockers(site_id: Any) -> list[Blocker]:
    participants = _randomized(site_id)
    states = selectors.casebook_states([p.pk for p in participants])
    out = []
    for p in participants:
        state = states[p.pk]
        if state.signed:
            continue
        why = "signature void: the data changed since it was signed" if state.void else "casebook not signed"
        out.append(Blocker("signatures", f"{p.label} (site {p.site.code}): {why}", p.pk, reverse("review:sign", args=[p.pk])))
    return out
