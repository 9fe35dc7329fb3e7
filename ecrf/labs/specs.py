"""Lab forms. Place in the schedule: ``labs.lab_panel`` and ``labs.central_lab`` on the sampling
days of ``ecrf.study.visits`` (model field ``day``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ecrf.accounts.roles import CASEBOOK_READ_ROLES, Role
from ecrf.crf.registry import FormSpec, register
from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.units import LOCAL_ANALYTES, to_standard
from ecrf.schedule.days import bounds_of_day, date_of_day
from ecrf.study.services import current_protocol
from ecrf.study.visits import CENTRAL_LAB, LAB_PANEL, scheduled_days, visit_for


def _schedule_errors(form: Any, key: str) -> dict[str, str]:
    protocol = current_protocol()
    days = scheduled_days(key, protocol)
    if form.day not in days:
        return {"day": f"Labs are sampled on days {', '.join(str(d) for d in days)}; day {form.day} is not a sampling day."}
    visit = visit_for(key, form.day, protocol)
    if form.sample_time is not None:
        start = bounds_of_day(form.participant, form.day - visit.window_before_days)[0]
        end = bounds_of_day(form.participant, form.day + visit.window_after_days)[1]
        if not start <= form.sample_time < end:
            first = date_of_day(form.participant, form.day - visit.window_before_days)
            last = date_of_day(form.participant, form.day + visit.window_after_days)
            return {"sample_time": f"A day-{form.day} sample is taken between {first} and {last} (site time)."}
        if form.sample_time > timezone.now() + dt.timedelta(minutes=5):
            return {"sample_time": "The sample time cannot be in the future."}
    return {}


def _validate_panel(form: LabPanel) -> dict[str, str]:
    errors = _schedule_errors(form, LAB_PANEL)
    if errors:
        return errors
    if all(getattr(form, a) is None for a in LOCAL_ANALYTES):
        return {LOCAL_ANALYTES[0]: "Enter at least one result."}
    for a in LOCAL_ANALYTES:
        value, unit = getattr(form, a), getattr(form, f"{a}_unit")
        low, high = getattr(form, f"{a}_low"), getattr(form, f"{a}_high")
        if value is not None and not unit:
            return {f"{a}_unit": f"Give the unit of the {a.replace('_', ' ')} result."}
        if value is not None and value < 0:
            return {a: "A result cannot be negative."}
        if (low is not None or high is not None) and not unit:
            return {f"{a}_unit": "Give the unit of the normal range."}
        if low is not None and high is not None and low > high:
            return {f"{a}_high": "The upper limit of normal is below the lower limit."}
    return {}


def _derive_panel(form: LabPanel) -> None:
    if form.hemoglobin is not None and form.hemoglobin_unit:
        try:
            form.hemoglobin_g_dl = to_standard("hemoglobin", form.hemoglobin, form.hemoglobin_unit)
        except ValueError:
            form.hemoglobin_g_dl = None  # the unit is refused by validation
        form.anemia = form.hemoglobin_g_dl is not None and form.hemoglobin_g_dl < current_protocol().anemia_hemoglobin_g_dl
    else:
        form.hemoglobin_g_dl = None
        form.anemia = None


def _validate_central(form: CentralLab) -> dict[str, str]:
    errors = _schedule_errors(form, CENTRAL_LAB)
    if errors:
        return errors
    if form.ferritin is None and form.hla_dr is None:
        return {"ferritin": "Enter ferritin, HLA-DR or both."}
    if form.ferritin is not None and not form.ferritin_unit:
        return {"ferritin_unit": "Give the ferritin unit (ng/mL or ug/L)."}
    if form.ferritin is not None and form.ferritin < 0:
        return {"ferritin": "Ferritin cannot be negative."}
    if form.hla_dr is not None and form.hla_dr > 200000:
        return {"hla_dr": "HLA-DR above 200,000 receptors/cell is not a plausible result."}
    return {}


_PANEL_FIELDS = ("day", "sample_time") + tuple(
    f for a in LOCAL_ANALYTES for f in (a, f"{a}_unit", f"{a}_low", f"{a}_high"))

LAB_PANEL_SPEC = register(FormSpec(
    key=LAB_PANEL, model=LabPanel, fields=_PANEL_FIELDS, derived_fields=("hemoglobin_g_dl", "anemia"),
    slug="labs", label="Lab panel", one_per=("day",), requires_randomized=True,
    validate=_validate_panel, derive=_derive_panel,
))
CENTRAL_LAB_SPEC = register(FormSpec(
    key=CENTRAL_LAB, model=CentralLab, fields=("day", "sample_time", "ferritin", "ferritin_unit", "hla_dr"),
    slug="central-labs", label="Central lab (follow-up)", one_per=("day",), requires_randomized=True,
    # trial.md: the central lab enters or imports ferritin and HLA-DR, as at screening.
    write_roles=frozenset({Role.LAB}), read_roles=CASEBOOK_READ_ROLES | {Role.LAB},
    validate=_validate_central,
))
