"""Outcomes: death, vital status on days 28 and 90, new infections, end of study."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import CRF
from ecrf.study.limits import between, trial_date

# Vital status is assessed on day 28 and 90; no study day is later than a year after day 1.
MAX_STUDY_DAY = 366


class Death(CRF):
    died_at = models.DateTimeField(_("date and time of death"), validators=trial_date())
    cause = models.CharField(_("cause of death"), max_length=300)
    study_day = models.IntegerField(_("study day of death"), null=True, editable=False)  # derived

    class Meta(CRF.Meta):
        verbose_name = _("death")


class VitalState(models.TextChoices):
    ALIVE = "alive", _("Alive")
    DEAD = "dead", _("Dead")
    UNKNOWN = "unknown", _("Unknown")


class VitalStatus(CRF):
    day = models.PositiveSmallIntegerField(_("study day"), help_text=_("28 or 90"), validators=between(1, MAX_STUDY_DAY))
    vital_status = models.CharField(_("vital status"), max_length=10, choices=VitalState.choices)
    assessed_on = models.DateField(_("date assessed"), validators=trial_date())
    last_contact_date = models.DateField(_("last contact date"), null=True, blank=True, validators=trial_date(),
                                         help_text=_("Required when the status is unknown."))

    class Meta(CRF.Meta):
        verbose_name = _("vital status")
        verbose_name_plural = _("vital status")


class InfectionSite(models.TextChoices):
    LUNG = "lung", _("Lower respiratory tract")
    BLOOD = "blood", _("Bloodstream")
    URINARY = "urinary", _("Urinary tract")
    ABDOMEN = "abdomen", _("Intra-abdominal")
    SKIN = "skin", _("Skin and soft tissue")
    CATHETER = "catheter", _("Catheter-related")
    CNS = "cns", _("Central nervous system")
    OTHER = "other", _("Other")


class Diagnosis(models.TextChoices):
    CULTURE = "culture", _("Positive culture")
    CLINICAL = "clinical", _("Clinical signs")
    IMAGING = "imaging", _("Imaging")
    MOLECULAR = "molecular", _("Molecular test")
    OTHER = "other", _("Other")


class NewInfection(CRF):
    onset_date = models.DateField(_("date of onset"), validators=trial_date())
    infection_site = models.CharField(_("site of infection"), max_length=20, choices=InfectionSite.choices)
    organism = models.CharField(_("organism"), max_length=200, blank=True, help_text=_("Blank if not identified."))
    diagnosed_by = models.CharField(_("how diagnosed"), max_length=20, choices=Diagnosis.choices)
    study_day = models.IntegerField(_("study day of onset"), null=True, editable=False)  # derived

    class Meta(CRF.Meta):
        verbose_name = _("new infection")


class Disposition(models.TextChoices):
    COMPLETED = "completed", _("Completed the study")
    DIED = "died", _("Died")
    WITHDREW_TREATMENT = "withdrew_treatment", _("Withdrew from study treatment only")
    WITHDREW_DATA_COLLECTION = "withdrew_data_collection", _("Withdrew from data collection")
    WITHDREW_DATA_USE = "withdrew_data_use", _("Withdrew consent to data use")
    LOST = "lost_to_follow_up", _("Lost to follow-up")


class EndOfStudy(CRF):
    disposition = models.CharField(_("disposition"), max_length=30, choices=Disposition.choices)
    disposition_date = models.DateField(_("date"), validators=trial_date())
    notes = models.TextField(_("notes"), blank=True)

    class Meta(CRF.Meta):
        verbose_name = _("end of study")
        verbose_name_plural = _("end of study")
