"""Blinded administration logs: "IV study drug" and "SC study drug", never a product.

Blinding by construction: no foreign key to randomization or pharmacy; a record knows the route
and the dose number in the participant's schedule, nothing about what was prepared.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from decimal import Decimal

from django.core.exceptions import ValidationError

from ecrf.crf.models import CRF
from ecrf.study.limits import between, trial_date


class Route(models.TextChoices):
    IV = "iv", _("IV study drug")
    SC = "sc", _("SC study drug")


class NotGivenReason(models.TextChoices):
    DEATH = "death", _("Death")
    DISCONTINUED = "discontinued", _("Treatment discontinued")
    CLINICAL_DECISION = "clinical_decision", _("Clinical decision")
    PREPARATION_UNAVAILABLE = "preparation_unavailable", _("Preparation unavailable")
    OTHER = "other", _("Other")


# Reasons that are a protocol deviation when a dose is not given; a dose
# not given because the participant died or stopped treatment is the expected consequence.
MISSED_DOSE_REASONS = frozenset({NotGivenReason.CLINICAL_DECISION, NotGivenReason.PREPARATION_UNAVAILABLE,
                                 NotGivenReason.OTHER})


# Hard limits on the volume given, per route (trial.md "Treatment": 20 mL IV infusions, 0.5 mL SC
# syringes): beyond them no prepared dose could have been given. Soft checks (an IV volume far
# from 20 mL, an SC volume far from 0.5 mL) belong to the data-management edit checks.
VOLUME_LIMITS_ML: dict[str, tuple[Decimal, Decimal]] = {
    "iv": (Decimal("0.01"), Decimal("100")),
    "sc": (Decimal("0.01"), Decimal("2")),
}
# One administration (or one interruption of it) cannot last longer than a day: doses are 8 h apart.
MAX_ADMINISTRATION_MINUTES = 24 * 60
# No dosing schedule of the trial has more doses than this (45 IV at most).
MAX_DOSE_NUMBER = 100


class Administration(CRF):
    route = models.CharField(_("route"), max_length=2, choices=Route.choices)
    dose_number = models.PositiveSmallIntegerField(_("dose number"), validators=between(1, MAX_DOSE_NUMBER), help_text=_("1 = the first dose of this route."))
    given = models.BooleanField(_("given"))
    reason_not_given = models.CharField(_("reason not given"), max_length=30, choices=NotGivenReason.choices, blank=True)
    reason_other = models.CharField(_("other reason"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("actual start time"), null=True, blank=True, validators=trial_date())
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True,
                                                   validators=between(0, MAX_ADMINISTRATION_MINUTES))
    volume_ml = models.DecimalField(_("volume given (mL)"), max_digits=6, decimal_places=2, null=True, blank=True,
                                    validators=between(min(v[0] for v in VOLUME_LIMITS_ML.values()),
                                                       max(v[1] for v in VOLUME_LIMITS_ML.values())))
    interrupted = models.BooleanField(_("interrupted"), default=False)
    interruption_minutes = models.PositiveIntegerField(_("interruption (minutes)"), null=True, blank=True,
                                                       validators=between(0, MAX_ADMINISTRATION_MINUTES))
    interruption_notes = models.CharField(_("interruption details"), max_length=300, blank=True)
    study_day = models.IntegerField(_("study day"), null=True, editable=False)  # derived from started_at

    class Meta(CRF.Meta):
        verbose_name = _("administration")
        indexes = [*CRF.Meta.indexes, models.Index(fields=["participant", "route", "dose_number"])]

    def clean(self) -> None:
        super().clean()
        limits = VOLUME_LIMITS_ML.get(self.route)
        if limits and self.volume_ml is not None and not limits[0] <= self.volume_ml <= limits[1]:
            label = Route(self.route).label
            raise ValidationError({"volume_ml": f"A volume of {self.volume_ml} mL of the {label} is impossible "
                                                f"({limits[0]} to {limits[1]} mL); check the entry."})


class DiscontinuedRoute(models.TextChoices):
    IV = "iv", _("IV study drug")
    SC = "sc", _("SC study drug")
    BOTH = "both", _("Both IV and SC study drug")


class DiscontinuationReason(models.TextChoices):
    ADVERSE_EVENT = "adverse_event", _("Adverse event")
    CLINICAL_DECISION = "clinical_decision", _("Clinical decision")
    PARTICIPANT_REQUEST = "participant_request", _("Participant or representative request")
    OTHER = "other", _("Other")


class Discontinuation(CRF):
    """Permanent discontinuation of study treatment (one route or both)."""

    route = models.CharField(_("which study drug"), max_length=4, choices=DiscontinuedRoute.choices)
    discontinued_on = models.DateField(_("date of discontinuation"), validators=trial_date())
    discontinuation_reason = models.CharField(_("reason for discontinuation"), max_length=30, choices=DiscontinuationReason.choices)
    reason_other = models.CharField(_("other reason"), max_length=300, blank=True)

    class Meta(CRF.Meta):
        verbose_name = _("treatment discontinuation")
