"""Outcome forms (declarations only: the rules are in ``rules``). Their place in the schedule is
declared in ``ecrf.study.visits``."""

from __future__ import annotations

from ecrf.crf.registry import FormSpec, register
from ecrf.outcomes import hooks
from ecrf.outcomes.models import Death, EndOfStudy, NewInfection, VitalStatus

DEATH = register(FormSpec(
    key="outcomes.death", model=Death, fields=("died_at", "cause"), derived_fields=("study_day",),
    slug="deaths", label="Death", one_per=(), requires_randomized=True,
    validate=hooks.validate_death, derive=hooks.derive_death,
))
VITAL_STATUS = register(FormSpec(
    key="outcomes.vital_status", model=VitalStatus, fields=("day", "vital_status", "assessed_on", "last_contact_date"),
    slug="vital-status", label="Vital status", one_per=("day",), requires_randomized=True,
    validate=hooks.validate_vital_status,
))
NEW_INFECTION = register(FormSpec(
    key="outcomes.new_infection", model=NewInfection,
    fields=("onset_date", "infection_site", "organism", "diagnosed_by"), derived_fields=("study_day",),
    slug="infections", label="New infection", one_per=None, requires_randomized=True,
    validate=hooks.validate_infection, derive=hooks.derive_infection,
))
END_OF_STUDY = register(FormSpec(
    key="outcomes.end_of_study", model=EndOfStudy, fields=("disposition", "disposition_date", "notes"),
    slug="end-of-study", label="End of study", one_per=(), requires_randomized=True,
    validate=hooks.validate_end_of_study,
))
