"""Concomitant medications, with the flags the analysis and eligibility need."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF
from ecrf.study.limits import between, past_date, trial_date


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


# Hard limits on one dose, per unit: beyond them no dose of any drug is given (e.g. 24 million IU
# of benzylpenicillin a day, 100 g of mannitol, 50 ug/kg/min of dopamine, 10 L of fluid).
# Doses that are possible but unusual for the drug named are soft checks for data management.
DOSE_LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    DoseUnit.MG: (Decimal("0"), Decimal("200000")),
    DoseUnit.G: (Decimal("0"), Decimal("200")),
    DoseUnit.UG: (Decimal("0"), Decimal("2000000")),
    DoseUnit.UG_KG_MIN: (Decimal("0"), Decimal("100")),
    DoseUnit.IU: (Decimal("0"), Decimal("9999999.999")),
    DoseUnit.ML: (Decimal("0"), Decimal("10000")),
}
# Hydrocortisone equivalents per day: 10 g (methylprednisolone pulses of 2 g) is the ceiling.
MAX_HYDROCORTISONE_MG_PER_DAY = Decimal("10000")


class ConcomitantMedication(CRF):
    drug = models.CharField(_("drug"), max_length=200)
    indication = models.CharField(_("indication"), max_length=200)
    dose = models.DecimalField(_("dose"), max_digits=10, decimal_places=3,
                               validators=between(min(v[0] for v in DOSE_LIMITS.values()),
                                                  max(v[1] for v in DOSE_LIMITS.values())))
    dose_unit = models.CharField(_("dose unit"), max_length=12, choices=DoseUnit.choices)
    route = models.CharField(_("route"), max_length=10, choices=MedRoute.choices)
    # A long-term medication may have started years before the trial; it is concomitant only if
    # it was still taken during the trial, so its stop date is not before the trial.
    started_on = models.DateField(_("start date"), validators=past_date())
    stopped_on = models.DateField(_("stop date"), null=True, blank=True, help_text=_("Blank while ongoing."),
                                  validators=trial_date())
    is_corticosteroid = models.BooleanField(_("corticosteroid"), default=False)
    hydrocortisone_mg_per_day = models.DecimalField(_("daily dose in hydrocortisone equivalents (mg)"), max_digits=8,
                                                    decimal_places=1, null=True, blank=True,
                                                    validators=between(Decimal(0), MAX_HYDROCORTISONE_MG_PER_DAY))
    is_vasopressor = models.BooleanField(_("vasopressor"), default=False)
    is_antimicrobial = models.BooleanField(_("antimicrobial"), default=False)
    # Derived: a corticosteroid dose over the configured threshold on the screening date
    # contradicts eligibility (trial.md "Who is screened").
    contradicts_eligibility = models.BooleanField(_("contradicts eligibility"), default=False, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("concomitant medication")

    def clean(self) -> None:
        super().clean()
        limits = DOSE_LIMITS.get(self.dose_unit)
        if limits and self.dose is not None and not limits[0] <= self.dose <= limits[1]:
            raise ValidationError({"dose": f"A dose of {self.dose} {self.dose_unit} is impossible "
                                           f"({limits[0]} to {limits[1]} {self.dose_unit}); check the dose and its unit."})
