"""Protocol deviations: raised by site staff, monitors, data managers, and by the system."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF
from ecrf.study.limits import trial_date


class DeviationCategory(models.TextChoices):
    ELIGIBILITY = "eligibility", _("Eligibility")
    CONSENT = "consent", _("Informed consent")
    TREATMENT = "treatment", _("Study drug administration")
    MISSED_DOSE = "missed_dose", _("Missed dose")
    LATE_FIRST_DOSE = "late_first_dose", _("First dose more than 72 h after Sepsis-3")
    ASSESSMENT = "assessment", _("Missed or late assessment")
    PROCEDURE = "procedure", _("Other procedure")
    OTHER = "other", _("Other")


class FoundBy(models.TextChoices):
    SITE = "site", _("Site staff")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")
    SYSTEM = "system", _("System rule")


class Impact(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major (may affect safety or the primary endpoint)")


class Deviation(CRF):
    category = models.CharField(_("category"), max_length=30, choices=DeviationCategory.choices)
    description = models.TextField(_("description"))
    occurred_on = models.DateField(_("date of deviation"), validators=trial_date())
    found_by = models.CharField(_("found by"), max_length=20, choices=FoundBy.choices)
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    # Set only by the system rules (late first dose, missed doses): one deviation per rule hit.
    rule_code = models.CharField(_("system rule"), max_length=60, blank=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("protocol deviation")
        constraints = [
            models.UniqueConstraint(fields=["participant", "rule_code"], condition=~models.Q(rule_code=""),
                                    name="deviation_one_per_system_rule"),
        ]
