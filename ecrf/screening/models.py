"""Screening log, consent and the central-lab screening sample (blinded: no arm, ever).

Three CRFs per screened patient (declared in ``specs.py``): the screening form (the screening-log
entry and the inclusion/exclusion checklist), the consent record with its lifecycle, and the
central lab's ferritin and HLA-DR. The screening form also carries the outcome computed on the
server from all three (ARCHITECTURE.md invariant 8): eligibility, phenotype and reason codes, with how
they were derived. Lab imports are recorded whole, accepted or refused, with their row report.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.crf.models import CRF, NoDeleteModel
from ecrf.study.limits import between, trial_date


class AdmissionRoute(models.TextChoices):
    EMERGENCY_DEPARTMENT = "emergency_department", _("Emergency department (SOFA on admission)")
    HOSPITALISED = "hospitalised", _("Already hospitalised (rise in SOFA)")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class InfectionSource(models.TextChoices):
    CAP = "CAP", _("Community-acquired pneumonia (CAP)")
    HAP = "HAP", _("Hospital-acquired pneumonia (HAP)")
    VAP = "VAP", _("Ventilator-associated pneumonia (VAP)")
    BSI = "BSI", _("Primary bacteremia")
    OTHER = "other", _("Other source")


class Eligibility(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    PENDING = "pending", _("Pending")


class Phenotype(models.TextChoices):
    MALS = "MALS", _("MALS (macrophage activation-like syndrome)")
    IMMUNOPARALYSIS = "immunoparalysis", _("Immunoparalysis")


# Exclusion criteria answered yes/no on the form, one column each (the computed ones,
# neutropenia and corticosteroids, come from the numbers): code -> column.
EXCLUSION_COLUMNS: dict[str, str] = {
    "pyelonephritis": "excl_pyelonephritis",
    "intra_abdominal": "excl_intra_abdominal",
    "meningitis": "excl_meningitis",
    "skin_soft_tissue": "excl_skin_soft_tissue",
    "skin_commensal_bacteremia": "excl_skin_commensal_bacteremia",
    "catheter_related_bacteremia": "excl_catheter_related_bacteremia",
    "stage_iv_malignancy": "excl_stage_iv_malignancy",
    "dnr": "excl_dnr",
}


def _yes_no(label: str) -> models.BooleanField:
    return models.BooleanField(label, null=True, blank=True, help_text=_("Leave unknown until answered."))


class Screening(CRF):
    """The screening-log entry of one screened patient (eligible or not). No direct identifiers:
    the screening number is on the participant; no names, no hospital record numbers."""

    sepsis3_at = models.DateTimeField(_("Sepsis-3 met at"), validators=trial_date(), help_text=_("Date and time of the Sepsis-3 classification."))
    admission_route = models.CharField(_("admission route"), max_length=30, choices=AdmissionRoute.choices)
    sofa_score_or_rise = models.PositiveSmallIntegerField(
        _("SOFA score (or its rise) meeting Sepsis-3"), validators=[MaxValueValidator(24)],
        help_text=_("SOFA on admission from the emergency department, or the rise in SOFA of a hospitalised patient."))
    age = models.PositiveSmallIntegerField(_("age (years)"), validators=[MaxValueValidator(120)])
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    infection_source = models.CharField(_("infection source"), max_length=10, choices=InfectionSource.choices)
    covid19 = _yes_no(_("COVID-19"))
    neutrophils_per_mm3 = models.PositiveIntegerField(
        _("absolute neutrophils (/mm³)"), null=True, blank=True, validators=[MaxValueValidator(500000)])
    corticosteroid_mg_per_day = models.DecimalField(
        _("systemic corticosteroids (mg hydrocortisone equivalent per day)"), max_digits=7, decimal_places=1,
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10000)],
        help_text=_("0 if none."))
    excl_pyelonephritis = _yes_no(_("Infection from another source: acute pyelonephritis"))
    excl_intra_abdominal = _yes_no(_("Infection from another source: intra-abdominal infection"))
    excl_meningitis = _yes_no(_("Infection from another source: meningitis"))
    excl_skin_soft_tissue = _yes_no(_("Infection from another source: skin and soft-tissue infection"))
    excl_skin_commensal_bacteremia = _yes_no(_("Bacteremia by coagulase-negative staphylococci or other skin commensals"))
    excl_catheter_related_bacteremia = _yes_no(_("Catheter-related bacteremia"))
    excl_stage_iv_malignancy = _yes_no(_("Stage IV malignancy"))
    excl_dnr = _yes_no(_("Do-not-resuscitate decision"))
    # Study-specific criteria configured in Protocol.extra_exclusion_criteria: {code: true/false/null}.
    extra_exclusions = models.JSONField(_("further exclusion criteria"), default=dict, blank=True)
    previous_screening_number = models.CharField(
        _("earlier screening number (re-screening)"), max_length=30, blank=True,
        help_text=_("If this patient failed an earlier screening at this site, its screening number."))

    # --- derived on the server (invariant 8) ---
    rescreen_of = models.ForeignKey("crf.Participant", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="rescreenings", editable=False, verbose_name=_("re-screening of"))
    eligibility = models.CharField(_("eligibility"), max_length=20, choices=Eligibility.choices,
                                   default=Eligibility.PENDING, editable=False)
    phenotype = models.CharField(_("phenotype"), max_length=20, choices=Phenotype.choices, null=True, blank=True,
                                 editable=False)
    ineligibility_reasons = models.JSONField(_("ineligibility reasons"), default=list, blank=True, editable=False)
    awaiting = models.JSONField(_("awaiting"), default=list, blank=True, editable=False)
    # The inputs the outcome was computed from, and when (how it was derived).
    derived_from = models.JSONField(_("derived from"), default=dict, blank=True, editable=False)
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True, editable=False)
    # Set at randomization: from then on eligibility and phenotype never change (the stratum and
    # the therapy depend on them); a later correction is recorded as a deviation instead.
    phenotype_fixed_at = models.DateTimeField(_("phenotype fixed at"), null=True, blank=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("screening")
        indexes = [*CRF.Meta.indexes, models.Index(fields=["eligibility"])]


class ConsentBy(models.TextChoices):
    PATIENT = "patient", _("The patient")
    REPRESENTATIVE = "representative", _("A legal representative")


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse or partner")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")


class ConsentDecision(models.TextChoices):
    GIVEN = "given", _("Consent given")
    REFUSED = "refused", _("Consent refused")


class PatientDecision(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed by the patient")
    REFUSED = "refused", _("Refused by the patient")


class WithdrawalType(models.TextChoices):
    TREATMENT = "treatment", _("From study treatment only")
    DATA_COLLECTION = "data_collection", _("From further data collection")
    DATA_USE = "data_use", _("From use of data already collected")


# Withdrawal types in order of reach: a withdrawal may widen, never narrow.
WITHDRAWAL_ORDER = (WithdrawalType.TREATMENT, WithdrawalType.DATA_COLLECTION, WithdrawalType.DATA_USE)


class Consent(CRF):
    """Informed consent: who gave it, which form version, when; the patient's later confirmation
    or refusal after a representative's consent; withdrawal by type and date."""

    consent_by = models.CharField(_("consent given by"), max_length=20, choices=ConsentBy.choices)
    representative_relation = models.CharField(
        _("representative's relation to the patient"), max_length=20, choices=Relation.choices, blank=True,
        help_text=_("First-degree relative or spouse; only for a representative's consent."))
    decision = models.CharField(_("decision"), max_length=10, choices=ConsentDecision.choices,
                                default=ConsentDecision.GIVEN)
    form_version = models.CharField(_("consent form version"), max_length=40)
    consented_at = models.DateTimeField(_("date and time of the decision"), validators=trial_date())

    # --- lifecycle, set by the consent services (not by form entry) ---
    patient_decision = models.CharField(_("patient's later decision"), max_length=10,
                                        choices=PatientDecision.choices, blank=True, editable=False)
    patient_decision_at = models.DateTimeField(_("patient's decision at"), null=True, blank=True, editable=False)
    patient_form_version = models.CharField(_("patient's consent form version"), max_length=40, blank=True,
                                            editable=False)
    withdrawal_type = models.CharField(_("withdrawal"), max_length=20, choices=WithdrawalType.choices, blank=True,
                                       editable=False)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("consent")

    @property
    def is_valid_consent(self) -> bool:
        """Consent given and not later refused by the patient (withdrawal is recorded apart)."""
        return self.decision == ConsentDecision.GIVEN and self.patient_decision != PatientDecision.REFUSED


class FerritinUnit(models.TextChoices):
    NG_ML = "ng/mL", _("ng/mL")
    UG_L = "ug/L", _("µg/L (equal to ng/mL)")


class CentralLabResult(CRF):
    """The central lab's screening sample: ferritin and HLA-DR, each with sample and result times."""

    # Hard limits: beyond them impossible (the protocol's plausibility limits may be tighter).
    ferritin = models.DecimalField(_("ferritin"), max_digits=10, decimal_places=1, null=True, blank=True,
                                   validators=between("0", "2000000"))
    ferritin_unit = models.CharField(_("ferritin unit"), max_length=10, choices=FerritinUnit.choices,
                                     default=FerritinUnit.NG_ML)
    ferritin_sampled_at = models.DateTimeField(_("ferritin sampled at"), null=True, blank=True, validators=trial_date())
    ferritin_resulted_at = models.DateTimeField(_("ferritin resulted at"), null=True, blank=True, validators=trial_date())
    hla_dr = models.PositiveIntegerField(_("HLA-DR (receptors per monocyte)"), null=True, blank=True,
                                         validators=between(0, 500000))
    hla_dr_sampled_at = models.DateTimeField(_("HLA-DR sampled at"), null=True, blank=True, validators=trial_date())
    hla_dr_resulted_at = models.DateTimeField(_("HLA-DR resulted at"), null=True, blank=True, validators=trial_date())

    class Meta(CRF.Meta):
        verbose_name = _("central-lab result")


class ImportStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class LabImport(NoDeleteModel):
    """One upload of the central lab's CSV file: accepted whole or refused whole, with its report."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ImportStatus.choices)
    row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    # [{"row": line number, "screening_number": ..., "errors": [...]}]; file-level problems have row null.
    report = models.JSONField(default=list, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]


class ScreeningCorrection(NoDeleteModel):
    """A change of screening data after randomization that would change the outcome: the fixed
    phenotype and eligibility stay (stratum and therapy), and a protocol deviation is raised."""

    participant = models.ForeignKey("crf.Participant", on_delete=models.PROTECT, related_name="screening_corrections")
    detected_at = models.DateTimeField(default=timezone.now)
    detected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    cause = models.CharField(max_length=200)
    fixed_eligibility = models.CharField(max_length=20, choices=Eligibility.choices)
    fixed_phenotype = models.CharField(max_length=20, choices=Phenotype.choices, null=True, blank=True)
    computed_eligibility = models.CharField(max_length=20, choices=Eligibility.choices)
    computed_phenotype = models.CharField(max_length=20, choices=Phenotype.choices, null=True, blank=True)
    computed_reasons = models.JSONField(default=list, blank=True)
    deviation_raised = models.BooleanField(default=False)
    history = audited_history()

    class Meta:
        ordering = ["participant_id", "detected_at", "pk"]
