"""Administration and discontinuation forms, and their place in the schedule.

The administration rules (``rules``): refused before randomization, after death, after
withdrawal from treatment or permanent discontinuation of that route, after treatment day 15
(15 x 24 h from the first dose), and a second record for one scheduled dose. A first dose more
than 72 h after Sepsis-3 is accepted and raises a protocol deviation; a dose not given for a
reason other than death or discontinuation raises a missed-dose deviation (``listeners``).
"""

from __future__ import annotations

from ecrf.crf.registry import FormSpec, register
from ecrf.dosing import hooks
from ecrf.dosing.models import Administration, Discontinuation
from ecrf.dosing.schedule import administration_slots

ADMINISTRATION = register(FormSpec(
    key="dosing.administration",
    model=Administration,
    fields=("route", "dose_number", "given", "reason_not_given", "reason_other", "started_at", "duration_minutes",
            "volume_ml", "interrupted", "interruption_minutes", "interruption_notes"),
    derived_fields=("study_day",),
    slug="administrations",
    label="Administration",
    one_per=("dose_number", "route"),
    requires_randomized=True,
    validate=hooks.validate_administration,
    derive=hooks.derive_administration,
    schedule_slots=administration_slots,
))
DISCONTINUATION = register(FormSpec(
    key="dosing.discontinuation",
    model=Discontinuation,
    fields=("route", "discontinued_on", "discontinuation_reason", "reason_other"),
    slug="discontinuations",
    label="Treatment discontinuation",
    one_per=None,
    requires_randomized=True,
    validate=hooks.validate_discontinuation,
))
