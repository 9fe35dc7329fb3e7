"""Concomitant medications, with the flags the analysis and eligibility need."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF


class MedRoute(models.TextChoices):
    ORAL = "oral", _("Oral")
    IV = "iv", _("Intravenous")
    IM = "im", _("Intramuscular")
    SC = "sc", _("Subcutaneous")
    INHALED = "inhaled", _("Inhaled")
    TOPICAL = "topical", _("Topical")
    OTHER = "other", _("Other")


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    G = "g", "g"
    UG = "ug", "µg"
    UG_KG_MIN = "ug/kg/min", "µg/kg/min"
    IU = "IU", "IU"
    ML = "mL", "mL"


class ConcomitantMedication(CRF):
    drug = models.CharField(_("drug"), max_length=200)
    indication = models.CharField(_("indication"), max_length=200)
    dose = models.DecimalField(_("dose"), max_digits=10, decimal_places=3)
    dose_unit = models.CharField(_("dose unit"), max_length=12, choices=DoseUnit.choices)
    route = models.CharField(_("route"), max_length=10, choices=MedRoute.choices)
    started_on = models.DateField(_("start date"))
    stopped_on = models.DateField(_("stop date"), null=True, blank=True, help_text=_("Blank while ongoing."))
    is_corticosteroid = models.BooleanField(_("corticosteroid"), default=False)
    hydrocortisone_mg_per_day = models.DecimalField(_("daily dose in hydrocortisone equivalents (mg)"), max_digits=8,
                                                    decimal_places=1, null=True, blank=True)
    is_vasopressor = models.BooleanField(_("vasopressor"), default=False)
    is_antimicrobial = models.BooleanField(_("antimicrobial"), default=False)
    # Derived: a corticosteroid dose over the configured threshold on the screening date
    # contradicts eligibility (trial.md "Who is screened").
    contradicts_eligibility = models.BooleanField(_("contradicts eligibility"), default=False, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("concomitant medication")
