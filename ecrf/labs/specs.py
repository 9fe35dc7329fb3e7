"""Lab forms (declarations only: the rules are in ``rules``). Place in the schedule:
``labs.lab_panel`` and ``labs.central_lab`` on the sampling days of ``ecrf.study.visits`` (model
field ``day``)."""

from __future__ import annotations

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, Role
from ecrf.crf.registry import FormSpec, register
from ecrf.labs import hooks
from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.units import LOCAL_ANALYTES
from ecrf.study.visits import CENTRAL_LAB, LAB_PANEL

_PANEL_FIELDS = ("day", "sample_time") + tuple(
    f for a in LOCAL_ANALYTES for f in (a, f"{a}_unit", f"{a}_low", f"{a}_high"))

LAB_PANEL_SPEC = register(FormSpec(
    key=LAB_PANEL, model=LabPanel, fields=_PANEL_FIELDS, derived_fields=("hemoglobin_g_dl", "anemia"),
    slug="labs", label="Lab panel", one_per=("day",), requires_randomized=True,
    validate=hooks.validate_panel, derive=hooks.derive_panel,
))
CENTRAL_LAB_SPEC = register(FormSpec(
    key=CENTRAL_LAB, model=CentralLab, fields=("day", "sample_time", "ferritin", "ferritin_unit", "hla_dr"),
    slug="central-labs", label="Central lab (follow-up)", one_per=("day",), requires_randomized=True,
    # trial.md: the central lab enters or imports ferritin and HLA-DR, as at screening.
    write_roles=frozenset({Role.LAB}), read_roles=CASEBOOK_READ_ROLES | {Role.LAB},
    validate=hooks.validate_central,
))
