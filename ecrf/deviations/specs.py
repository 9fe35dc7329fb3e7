from __future__ import annotations

from django.utils import timezone

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.crf.registry import FormSpec, register
from ecrf.deviations.models import Deviation, FoundBy


def _validate(form: Deviation) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.occurred_on and form.occurred_on > timezone.localdate():
        errors["occurred_on"] = "The deviation date cannot be in the future."
    if form.found_by == FoundBy.SYSTEM and not form.rule_code:
        errors["found_by"] = "Only the system's own rules record 'System rule'; choose who found it."
    return errors


DEVIATION = register(FormSpec(
    key="deviations.deviation",
    model=Deviation,
    fields=("category", "description", "occurred_on", "found_by", "impact", "corrective_action"),
    derived_fields=("rule_code",),
    slug="deviations",
    label="Protocol deviation",
    # Raised by site staff, monitors and data managers.
    write_roles=SITE_ENTRY_ROLES | {Role.MONITOR, Role.DATA_MANAGER},
    read_roles=CASEBOOK_READ_ROLES,
    one_per=None,
    validate=_validate,
))
