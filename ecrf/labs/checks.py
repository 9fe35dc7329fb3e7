"""The lab forms' edit checks (``ecrf.crf.checks``): results possible but unusual (``units``: the
hard limits refuse the impossible, these are the soft ones the data team asked for), lab forms
missing past their sampling window, and stale drafts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from ecrf.crf.checks import CheckScope, EditCheck, Severity, register_check
from ecrf.labs.models import CentralLab, LabPanel
from ecrf.labs.units import UNITS
from ecrf.schedule.checks import live, on_form, overdue_missing, register_stale_draft_check
from ecrf.study.visits import CENTRAL_LAB, LAB_PANEL

# Soft limits in each analyte's standard unit (units.UNITS): possible, but rarely seen alive and
# most often a unit slip (units.py: "haemoglobin below 5 g/dL, platelets above 1000 x10^9/L").
HEMOGLOBIN_SOFT_LOW_G_DL = Decimal("5")
PLATELETS_SOFT_HIGH = Decimal("1000")  # x10^9/L


def in_standard_unit(analyte: str, *, below: Decimal | None = None, above: Decimal | None = None) -> Q:
    """Rows whose ``analyte`` result, in the unit entered, is below / above a limit given in the
    analyte's standard unit (each unit's own threshold, so the comparison stays in SQL)."""
    found = Q(pk__in=[])
    for unit, factor in UNITS[analyte][1].items():
        if below is not None:
            found |= Q(**{f"{analyte}_unit": unit, f"{analyte}__lt": below / factor})
        if above is not None:
            found |= Q(**{f"{analyte}_unit": unit, f"{analyte}__gt": above / factor})
    return found


def hemoglobin_very_low(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(LabPanel, scope).filter(in_standard_unit("hemoglobin", below=HEMOGLOBIN_SOFT_LOW_G_DL)))


register_check(EditCheck(
    code="LAB-001", version=1, severity=Severity.SOFT, form=LAB_PANEL, fields=("hemoglobin", "hemoglobin_unit"),
    rule=hemoglobin_very_low,
    message="Hemoglobin below 5 g/dL (or the same in the unit entered): check the value and its unit; if it is "
            "right, record the anemia adverse event.",
    rationale="Anemia is an adverse event of special interest (signal with anakinra); a value this low is rare and "
              "often a unit slip (g/L entered as g/dL)."))


def platelets_very_high(scope: CheckScope) -> QuerySet[Any]:
    return on_form(live(LabPanel, scope).filter(in_standard_unit("platelets", above=PLATELETS_SOFT_HIGH)))


register_check(EditCheck(
    code="LAB-002", version=1, severity=Severity.SOFT, form=LAB_PANEL, fields=("platelets", "platelets_unit"),
    rule=platelets_very_high,
    message="Platelets above 1000 x10^9/L: check the value and its unit (a count per mm3 entered with the "
            "wrong unit is the usual slip).",
    rationale="Platelets feed the SOFA coagulation score; a count this high is rare in sepsis."))


def panel_missing(scope: CheckScope) -> QuerySet[Any]:
    return overdue_missing(scope, model=LabPanel, form_key=LAB_PANEL, until_death=True)


register_check(EditCheck(
    code="LAB-003", version=1, severity=Severity.SOFT, form=LAB_PANEL, fields=("day",), rule=panel_missing,
    message="The safety-lab panel of this sampling day is missing and its window has closed: enter it, or mark "
            "it not done with the reason.",
    rationale="trial.md \"Assessments\": blood is sampled on days 2, 3, 4, 5, 7, 8, 15, 28 and 90 "
              "(Protocol.sampling_days); the visit schedule gives each day's window."))


def central_missing(scope: CheckScope) -> QuerySet[Any]:
    return overdue_missing(scope, model=CentralLab, form_key=CENTRAL_LAB, until_death=True)


register_check(EditCheck(
    code="LAB-004", version=1, severity=Severity.SOFT, form=CENTRAL_LAB, fields=("day",), rule=central_missing,
    message="The central-lab ferritin and HLA-DR of this sampling day are missing and the window has closed: ask "
            "the central lab for the result, or mark the sample not done with the reason.",
    rationale="trial.md \"Secondary endpoints\": day-15 phenotype reversal needs the follow-up ferritin and HLA-DR."))

register_stale_draft_check(code="LAB-005", form=LAB_PANEL, model=LabPanel, fields=("day",), label="lab panel")
