"""The pharmacist's reads: own sites only, unblinded (arm and products)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ecrf.accounts.roles import Role, user_roles
from ecrf.accounts.selectors import member_site_ids
from ecrf.core.errors import forbidden, not_found
from ecrf.crf.models import Participant
from ecrf.dosing.rules import due_times
from ecrf.pharmacy.models import Preparation, PreparationStatus, Product, Route
from ecrf.pharmacy.supply import Requirement, supply_mode
from ecrf.randomization.models import Arm, Assignment
from ecrf.study.services import current_protocol


def require_pharmacist(user: Any) -> None:
    if Role.PHARMACIST not in user_roles(user):
        raise forbidden("Only the site's unblinded pharmacists work with study drug preparations.")


def pharmacy_participants(user: Any):
    require_pharmacist(user)
    return (Participant.objects.filter(site_id__in=member_site_ids(user), randomized_at__isnull=False)
            .select_related("site").order_by("-randomized_at", "pk"))


def pharmacy_participant(user: Any, pk: Any) -> Participant:
    """A randomized participant of the pharmacist's own sites; the same 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found("participant") from None
    found = pharmacy_participants(user).filter(pk=pk).first()
    if found is None:
        raise not_found("participant")
    return found


def preparations_for(user: Any):
    require_pharmacist(user)
    return (Preparation.objects.filter(participant__site_id__in=member_site_ids(user))
            .select_related("participant", "participant__site", "prepared_by").order_by("-prepared_at", "-pk"))


@dataclass
class WorkItem:
    participant: Participant
    arm: str
    phenotype: str
    requirements: tuple[Requirement, Requirement]
    prepared: dict[str, int] = field(default_factory=dict)  # route -> doses prepared

    @property
    def next_dose(self) -> dict[str, int]:
        return {r.route: self.prepared.get(r.route, 0) + 1 for r in self.requirements}

    @property
    def arm_label(self) -> str:
        return str(Arm(self.arm).label)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Each route's need in words, with how many doses are prepared (for the pages)."""
        return [{"route": r.route, "route_label": str(Route(r.route).label), "product": str(Product(r.product).label),
                 "dose": r.dose, "doses": r.doses, "prepared": self.prepared.get(r.route, 0)} for r in self.requirements]


def worklist(user: Any, participants: list[Participant] | None = None) -> list[WorkItem]:
    """What each randomized participant of the pharmacist's sites needs (three queries)."""
    participants = participants if participants is not None else list(pharmacy_participants(user))
    ids = [p.pk for p in participants]
    assignments = {a.participant_id: a for a in Assignment.objects.filter(participant_id__in=ids).select_related("slot")}
    counts: dict[tuple[int, str], int] = {}
    for pid, route in Preparation.objects.filter(participant_id__in=ids, status=PreparationStatus.RECORDED).values_list(
            "participant_id", "route"):
        counts[(pid, route)] = counts.get((pid, route), 0) + 1
    protocol = current_protocol()
    mode = supply_mode(protocol)
    items = []
    for p in participants:
        a = assignments.get(p.pk)
        if a is None:
            continue
        reqs = mode.requirements(arm=a.slot.arm, phenotype=a.phenotype, protocol=protocol)
        items.append(WorkItem(p, a.slot.arm, a.phenotype, reqs, {r.route: counts.get((p.pk, r.route), 0) for r in reqs}))
    return items


def doses_due_within(item: object, *, hours: int = 24) -> dict[str, int]:
    """How many of each route's next doses to prepare for a day: those due within ``hours`` of
    the earliest dose still to prepare, counted from randomization, when the first doses are
    given."""
    protocol = current_protocol()
    participant = item.participant  # type: ignore[attr-defined]
    upcoming = {r.route: due_times(r.route, participant.randomized_at, protocol)[item.next_dose[r.route] - 1:]  # type: ignore[attr-defined]
                for r in item.requirements}  # type: ignore[attr-defined]
    firsts = [times[0] for times in upcoming.values() if times]
    if not firsts:
        return dict.fromkeys(upcoming, 0)
    # One day for both routes, from the earliest dose still to prepare.
    end = min(firsts) + dt.timedelta(hours=hours)
    return {route: sum(1 for t in times if t < end) for route, times in upcoming.items()}
