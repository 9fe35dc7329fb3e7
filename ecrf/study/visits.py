"""The visit schedule, declared as data (visits with windows and required forms, not code).

Each form lists the visits it belongs to by its ``FormSpec`` key; the schedule engine
(``ecrf.schedule.engine``) turns these declarations, the registered specs and the protocol
constants into a participant's expected forms with windows. Days are study days (day 1 = date
of randomization, site zone). A key whose form is not registered (its app has not landed yet) is
simply skipped, so a new app appears in the casebook as soon as its spec registers.

Windows: ``window_before_days`` / ``window_after_days`` widen the visit day into the dates on
which the form may be entered; a form is *due* from the first date of its window and *overdue*
after the last.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol

# Administrations are scheduled on elapsed time from the first dose (ARCHITECTURE.md "Time"); the
# dosing spec expands this key on each treatment day into that day's IV and SC dose slots.
ADMINISTRATION = "dosing.administration"
SOFA_DAY = "sofa.sofa_day"
LAB_PANEL = "labs.lab_panel"
CENTRAL_LAB = "labs.central_lab"
VITAL_STATUS = "outcomes.vital_status"
END_OF_STUDY = "outcomes.end_of_study"


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
        forms = [ADMINISTRATION]
        if day <= protocol.sofa_days:
            forms.append(SOFA_DAY)
        if day in protocol.sampling_days:
            forms.extend([LAB_PANEL, CENTRAL_LAB])
        # A day's forms may be completed the next day (the day's values are known at its end).
        visits.append(VisitDef(f"day{day}", f"Day {day}", day, 0, 1, tuple(forms)))
    for day in range(protocol.treatment_days + 1, protocol.sofa_days + 1):
        visits.append(VisitDef(f"day{day}", f"Day {day}", day, 0, 1, (SOFA_DAY,)))
    # Treatment lasts 15 x 24 h from the first dose: after a late-evening randomization the last
    # doses fall on the next calendar day.
    extra_day = max(protocol.treatment_days, protocol.sofa_days) + 1
    visits.append(VisitDef(f"day{extra_day}", f"Day {extra_day}", extra_day, 0, 1, (ADMINISTRATION,)))
    for day in protocol.sampling_days:
        if day > protocol.treatment_days:
            visits.append(VisitDef(f"day{day}", f"Day {day}", day, 2, 2, (LAB_PANEL, CENTRAL_LAB)))
    for day in protocol.vital_status_days:
        visits.append(VisitDef(f"vital{day}", f"Vital status day {day}", day, 2, 7, (VITAL_STATUS,)))
    visits.append(VisitDef("eos", "End of study", None, 0, 0, (END_OF_STUDY,)))
    return tuple(visits)


def visit_for(form_key: str, day: int, protocol: Protocol = DEFAULT_PROTOCOL) -> VisitDef | None:
    """The visit on ``day`` that lists ``form_key`` (its window), or None if not scheduled then."""
    return next((v for v in visit_schedule(protocol) if v.day == day and form_key in v.forms), None)


def scheduled_days(form_key: str, protocol: Protocol = DEFAULT_PROTOCOL) -> tuple[int, ...]:
    return tuple(v.day for v in visit_schedule(protocol) if v.day is not None and form_key in v.forms)
