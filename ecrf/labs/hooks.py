"""The lab specs' hooks: the form's sampling window and values, judged by ``rules``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.rules import Result, SampleWindow, anemia, central_lab_problems, panel_problems, sampling_problems
from ecrf.labs.units import LOCAL_ANALYTES
from ecrf.schedule.days import bounds_of_day, date_of_day
from ecrf.study.services import current_protocol
from ecrf.study.visits import CENTRAL_LAB, LAB_PANEL, scheduled_days, visit_for


def _sampling_problems(form: Any, key: str) -> dict[str, str]:
    protocol = current_protocol()
    days = scheduled_days(key, protocol)
    visit = visit_for(key, form.day, protocol) if form.day in days else None
    window = None
    if visit is not None:
        first_day, last_day = form.day - visit.window_before_days, form.day + visit.window_after_days
        window = SampleWindow(start=bounds_of_day(form.participant, first_day)[0],
                              end=bounds_of_day(form.participant, last_day)[1],
                              first_date=date_of_day(form.participant, first_day),
                              last_date=date_of_day(form.participant, last_day))
    return sampling_problems(day=form.day, sample_time=form.sample_time, sampling_days=days, window=window,
                             now=timezone.now())


def validate_panel(form: LabPanel) -> dict[str, str]:
    results = {a: Result(value=getattr(form, a), unit=getattr(form, f"{a}_unit"), low=getattr(form, f"{a}_low"),
                         high=getattr(form, f"{a}_high")) for a in LOCAL_ANALYTES}
    return _sampling_problems(form, LAB_PANEL) or panel_problems(results)


def derive_panel(form: LabPanel) -> None:
    form.hemoglobin_g_dl, form.anemia = anemia(form.hemoglobin, form.hemoglobin_unit, protocol=current_protocol())


def validate_central(form: CentralLab) -> dict[str, str]:
    return _sampling_problems(form, CENTRAL_LAB) or central_lab_problems(
        ferritin=form.ferritin, ferritin_unit=form.ferritin_unit, hla_dr=form.hla_dr)
