"""The visit schedule, declared as data (STYLE.md: clinicedc's schedule as data).

Each later form registers which visits it belongs to by its form key; the schedule engine
(``ecrf.schedule``) turns these declarations and the protocol constants into a participant's
expected forms with windows. Days are study days (day 1 = date of randomization, site zone).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol


@dataclass(frozen=True)
class VisitDef:
    code: str
    label: str
    day: int | None  # None: event-driven (e.g. end of study), not tied to a day
    window_before_days: int
    window_after_days: int
    forms: tuple[str, ...]


def visit_schedule(protocol: Protocol = DEFAULT_PROTOCOL) -> tuple[VisitDef, ...]:
    visits: list[VisitDef] = [
        VisitDef("screening", "Screening", 0, 0, 0, ("screening.screening", "screening.consent", "screening.central_lab")),
    ]
    for day in range(1, protocol.treatment_days + 1):
        forms = ["dosing.iv_administration", "sofa.sofa_day"]
        if day in protocol.sampling_days:
            forms.append("labs.lab_panel")
        visits.append(VisitDef(f"day{day}", f"Day {day}", day, 0, 0, tuple(forms)))
    for day in protocol.sampling_days:
        if day > protocol.treatment_days:
            visits.append(VisitDef(f"day{day}", f"Day {day}", day, 2, 2, ("labs.lab_panel",)))
    for day in protocol.vital_status_days:
        visits.append(VisitDef(f"vital{day}", f"Vital status day {day}", day, 2, 7, ("outcomes.vital_status",)))
    visits.append(VisitDef("eos", "End of study", None, 0, 0, ("outcomes.end_of_study",)))
    return tuple(visits)
