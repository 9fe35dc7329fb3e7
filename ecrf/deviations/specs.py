"""The protocol-deviation form (declarations only: the rules are in ``rules``)."""

from __future__ import annotations

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, SITE_ENTRY_ROLES, Role
from ecrf.crf.registry import FormSpec, register
from ecrf.deviations import hooks
from ecrf.deviations.models import Deviation

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
    validate=hooks.validate_deviation,
))
