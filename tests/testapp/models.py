from django.db import models

from ecrf.crf.models import CRF


class VitalSigns(CRF):
    measured_on = models.DateField("measured on")
    temperature = models.DecimalField("temperature (°C)", max_digits=4, decimal_places=1)
    heart_rate = models.PositiveIntegerField("heart rate (/min)")
    notes = models.CharField("notes", max_length=200, blank=True)
    fever = models.BooleanField("fever", default=False, editable=False)  # derived on the server

    class Meta(CRF.Meta):
        verbose_name = "vital signs"
