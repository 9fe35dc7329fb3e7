"""Follow-up labs: the central lab's ferritin and HLA-DR, and the site's safety labs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF
from ecrf.labs.units import LOCAL_ANALYTES, UNITS

LABELS = {"hemoglobin": _("hemoglobin"), "white_cells": _("white cells"), "neutrophils": _("neutrophils"),
          "platelets": _("platelets"), "bilirubin": _("bilirubin"), "creatinine": _("creatinine")}


class CentralLab(CRF):
    """Central-lab ferritin and HLA-DR on a sampling day (entered or imported by the lab role)."""

    day = models.PositiveSmallIntegerField(_("study day"))
    sample_time = models.DateTimeField(_("sample time"))
    ferritin = models.DecimalField(_("ferritin"), max_digits=9, decimal_places=1, null=True, blank=True)
    ferritin_unit = models.CharField(_("ferritin unit"), max_length=10, blank=True,
                                     choices=[(u, u) for u in UNITS["ferritin"][1]])
    hla_dr = models.PositiveIntegerField(_("HLA-DR (receptors/cell)"), null=True, blank=True)

    class Meta(CRF.Meta):
        verbose_name = _("central lab (follow-up)")


def _analyte_fields() -> dict:
    # Each local analyte: value, unit (only the units it takes), normal range low and high.
    attrs: dict = {"__module__": __name__, "Meta": type("Meta", (), {"abstract": True})}
    for analyte in LOCAL_ANALYTES:
        words = analyte.replace("_", " ")
        attrs[analyte] = models.DecimalField(LABELS[analyte], max_digits=10, decimal_places=3, null=True, blank=True)
        attrs[f"{analyte}_unit"] = models.CharField(f"{words} unit", max_length=10, blank=True,
                                                    choices=[(u, u) for u in UNITS[analyte][1]])
        attrs[f"{analyte}_low"] = models.DecimalField(f"{words} normal low", max_digits=10, decimal_places=3, null=True, blank=True)
        attrs[f"{analyte}_high"] = models.DecimalField(f"{words} normal high", max_digits=10, decimal_places=3, null=True, blank=True)
    return attrs


LocalLabValues = type("LocalLabValues", (models.Model,), _analyte_fields())


class LabPanel(CRF, LocalLabValues):
    """The site's safety labs on a sampling day: each value with unit and normal range."""

    day = models.PositiveSmallIntegerField(_("study day"))
    sample_time = models.DateTimeField(_("sample time"))
    anemia = models.BooleanField(_("anemia"), null=True, editable=False)  # derived
    hemoglobin_g_dl = models.DecimalField(_("hemoglobin (g/dL)"), max_digits=8, decimal_places=3, null=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("lab panel")
