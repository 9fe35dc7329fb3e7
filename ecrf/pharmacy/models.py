"""Unblinded: what the site's pharmacist prepared for each dose (product, lot, dose, label).
No blinded model refers to these; blinded apps never import this module."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ecrf.audit.history import audited_history
from ecrf.crf.models import NoDeleteModel


class Route(models.TextChoices):
    IV = "iv", "IV study drug"
    SC = "sc", "SC study drug"


class Product(models.TextChoices):
    ANAKINRA = "anakinra", "Anakinra (IV)"
    PLACEBO_IV = "placebo_iv", "Placebo (IV saline)"
    INTERFERON_GAMMA = "interferon_gamma", "Interferon-gamma-1b (SC)"
    PLACEBO_SC = "placebo_sc", "Placebo (SC saline)"


class PreparationStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    RETRACTED = "retracted", "Retracted (entered in error)"


class Preparation(NoDeleteModel):
    participant = models.ForeignKey("crf.Participant", on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=2, choices=Route.choices)
    dose_number = models.PositiveSmallIntegerField()
    product = models.CharField(max_length=20, choices=Product.choices)
    lot = models.CharField(max_length=60)
    dose = models.CharField(max_length=100)
    # What the syringe or bag says: the subject ID, the route and the dose number; the same words
    # whatever it holds, so the label never unblinds the ward.
    label = models.CharField(max_length=120)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=PreparationStatus.choices, default=PreparationStatus.RECORDED)
    status_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    history = audited_history()

    class Meta:
        ordering = ["participant_id", "route", "dose_number", "pk"]
        constraints = [models.UniqueConstraint(fields=["participant", "route", "dose_number"],
                                               condition=models.Q(status="recorded"),
                                               name="preparation_once_per_dose")]
