"""Follow-up labs: the central lab's ferritin and HLA-DR, and the site's safety labs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF
from ecrf.labs.units import LOCAL_ANALYTES, UNITS, hard_limits_in, widest_hard_limits
from ecrf.study.limits import between, trial_date

LABELS = {"hemoglobin": _("hemoglobin"), "white_cells": _("white cells"), "neutrophils": _("neutrophils"),
          "platelets": _("platelets"), "bilirubin": _("bilirubin"), "creatinine": _("creatinine")}


# Hard limits: no sample is taken after a year of follow-up (the last sampling day is 90); no
# monocyte carries more than this many HLA-DR receptors (healthy: about 15,000 to 60,000).
MAX_STUDY_DAY = 366
MAX_HLA_DR = 500000


class CentralLab(CRF):
    """Central-lab ferritin and HLA-DR on a sampling day (entered or imported by the lab role)."""

    day = models.PositiveSmallIntegerField(_("study day"), validators=between(0, MAX_STUDY_DAY))
    sample_time = models.DateTimeField(_("sample time"), validators=trial_date())
    ferritin = models.DecimalField(_("ferritin"), max_digits=9, decimal_places=1, null=True, blank=True,
                                   validators=between(*widest_hard_limits("ferritin")))
    ferritin_unit = models.CharField(_("ferritin unit"), max_length=10, blank=True,
                                     choices=[(u, u) for u in UNITS["ferritin"][1]])
    hla_dr = models.PositiveIntegerField(_("HLA-DR (receptors/cell)"), null=True, blank=True,
                                         validators=between(0, MAX_HLA_DR))

    class Meta(CRF.Meta):
        verbose_name = _("central lab (follow-up)")


def _analyte_fields() -> dict:
    # Each local analyte: value, unit (only the units it takes), normal range low and high.
    attrs: dict = {"__module__": __name__, "Meta": type("Meta", (), {"abstract": True})}
    for analyte in LOCAL_ANALYTES:
        words = analyte.replace("_", " ")
        # The field allows the widest limits over its units; clean() checks the unit given.
        limits = between(*widest_hard_limits(analyte))
        attrs[analyte] = models.DecimalField(LABELS[analyte], max_digits=10, decimal_places=3, null=True, blank=True,
                                             validators=limits)
        attrs[f"{analyte}_unit"] = models.CharField(f"{words} unit", max_length=10, blank=True,
                                                    choices=[(u, u) for u in UNITS[analyte][1]])
        attrs[f"{analyte}_low"] = models.DecimalField(f"{words} normal low", max_digits=10, decimal_places=3, null=True,
                                                      blank=True, validators=limits)
        attrs[f"{analyte}_high"] = models.DecimalField(f"{words} normal high", max_digits=10, decimal_places=3, null=True,
                                                       blank=True, validators=limits)
    return attrs


LocalLabValues = type("LocalLabValues", (models.Model,), _analyte_fields())


class LabPanel(CRF, LocalLabValues):
    """The site's safety labs on a sampling day: each value with unit and normal range."""

    day = models.PositiveSmallIntegerField(_("study day"), validators=between(0, MAX_STUDY_DAY))
    sample_time = models.DateTimeField(_("sample time"), validators=trial_date())
    anemia = models.BooleanField(_("anemia"), null=True, editable=False)  # derived
    hemoglobin_g_dl = models.DecimalField(_("hemoglobin (g/dL)"), max_digits=8, decimal_places=3, null=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("lab panel")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        for analyte in LOCAL_ANALYTES:
            unit = getattr(self, f"{analyte}_unit")
            if unit not in UNITS[analyte][1]:
                continue
            low, high = hard_limits_in(analyte, unit)
            for name in (analyte, f"{analyte}_low", f"{analyte}_high"):
                value = getattr(self, name)
                if value is not None and not low <= value <= high:
                    errors[name] = (f"{value} {unit} is impossible for {analyte.replace('_', ' ')} ({low:f} to {high:f} {unit}); "
                                    "check the value and its unit.")
        if errors:
            raise ValidationError(errors)
