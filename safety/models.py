"""Safety tables: the adverse-event CRF, the MedDRA dictionary, SAE reports, reporting clocks,
submissions, the blinded expedited-reporting assessment, and adjudication.

Blinded by construction: nothing here holds or points at an allocation, an assignment or a
preparation record. The one unblinded fact this app stores is the pharmacovigilance outcome
of a single potential SUSAR (``ExpeditedAssessment.pv_outcome``), which selectors show to
pharmacovigilance only (ARCHITECTURE.md "Roles": pharmacovigilance, for a SUSAR candidate).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.crf.models import CRF, NoDeleteModel
from ecrf.study.limits import between, trial_date
from safety.clocks import ClockKind
from safety.limits import ae_limit_errors

# --- MedDRA dictionary ---------------------------------------------------------------------


class MeddraLevel(models.TextChoices):
    SOC = "soc", _("System organ class")
    HLGT = "hlgt", _("High level group term")
    HLT = "hlt", _("High level term")
    PT = "pt", _("Preferred term")
    LLT = "llt", _("Lowest level term")


class MeddraRelease(models.Model):
    """One imported release (the licensed MedDRA or the demonstration dictionary)."""

    version = models.CharField(max_length=40)
    language = models.CharField(max_length=40, default="English")
    source = models.CharField(max_length=300)
    is_demo = models.BooleanField(default=False)
    imported_at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"MedDRA {self.version} ({self.language})"


class MeddraTerm(models.Model):
    """A term at one of the five levels. An LLT names its PT; a PT names its primary SOC."""

    level = models.CharField(max_length=4, choices=MeddraLevel.choices)
    code = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    abbrev = models.CharField(max_length=10, blank=True)
    current = models.BooleanField(default=True)  # LLT currency flag
    pt_code = models.PositiveIntegerField(null=True, blank=True)  # LLT -> PT
    primary_soc_code = models.PositiveIntegerField(null=True, blank=True)  # PT -> primary SOC

    class Meta:
        ordering = ["level", "name"]
        constraints = [models.UniqueConstraint(fields=["level", "code"], name="meddra_term_unique_level_code")]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class MeddraLink(models.Model):
    """A hierarchy edge (multiaxial: a PT may sit under several HLTs, an HLGT under several SOCs)."""

    parent_level = models.CharField(max_length=4, choices=MeddraLevel.choices)
    parent_code = models.PositiveIntegerField()
    child_level = models.CharField(max_length=4, choices=MeddraLevel.choices)
    child_code = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["parent_level", "parent_code", "child_level", "child_code"],
                                               name="meddra_link_unique")]
        indexes = [models.Index(fields=["child_level", "child_code"])]

    def __str__(self) -> str:
        return f"{self.parent_level} {self.parent_code} -> {self.child_level} {self.child_code}"


# --- the adverse-event CRF -------------------------------------------------------------------


class Grade(models.IntegerChoices):
    MILD = 1, _("1 Mild")
    MODERATE = 2, _("2 Moderate")
    SEVERE = 3, _("3 Severe")
    LIFE_THREATENING = 4, _("4 Life-threatening")
    DEATH = 5, _("5 Death related to the AE")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered / resolved")
    RECOVERING = "recovering", _("Recovering / resolving")
    NOT_RECOVERED = "not_recovered", _("Not recovered / not resolved")
    SEQUELAE = "sequelae", _("Recovered with sequelae")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


class ActionTaken(models.TextChoices):
    NONE = "none", _("Dose not changed")
    INTERRUPTED = "interrupted", _("Drug interrupted")
    WITHDRAWN = "withdrawn", _("Drug withdrawn")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Causality(models.TextChoices):
    """WHO-UMC causality categories, in order of strength (safety.md "Causality")."""

    CERTAIN = "certain", _("Certain")
    PROBABLE = "probable", _("Probable / likely")
    POSSIBLE = "possible", _("Possible")
    UNLIKELY = "unlikely", _("Unlikely")
    CONDITIONAL = "conditional", _("Conditional / unclassified")
    UNASSESSABLE = "unassessable", _("Unassessable / unclassifiable")


RELATED = frozenset({Causality.CERTAIN, Causality.PROBABLE, Causality.POSSIBLE})
# Strength for "upgrade, never downgrade": related categories outrank not-related ones.
CAUSALITY_RANK = {
    Causality.UNLIKELY: 0, Causality.UNASSESSABLE: 1, Causality.CONDITIONAL: 1,
    Causality.POSSIBLE: 2, Causality.PROBABLE: 3, Causality.CERTAIN: 4,
}


class BleedingSeverity(models.TextChoices):
    MINOR = "minor", _("Minor")
    CLINICALLY_RELEVANT = "clinically_relevant", _("Clinically relevant non-major")
    MAJOR = "major", _("Major")
    FATAL = "fatal", _("Fatal")


SERIOUSNESS_CRITERIA = (
    "serious_death", "serious_life_threatening", "serious_hospitalisation", "serious_disability",
    "serious_congenital_anomaly", "serious_important_medical_event",
)


# MedDRA codes are eight digits.
MEDDRA_CODE_RANGE = (10000000, 99999999)
# Hard limits of the special-interest fields: a haemoglobin nadir above 0 (survivors of 0.7 g/dL
# are reported) and at most 25 g/dL; at most 500 red-cell units over one event (massive
# transfusion). A nadir that is possible but unusual (below 4, or above 10 for an anemia
# event) is a soft check for data management.
HB_NADIR_G_DL = ("0.1", "25.0")
MAX_TRANSFUSION_UNITS = 500


class AdverseEvent(CRF):
    verbatim_term = models.CharField(_("verbatim term"), max_length=200)
    llt_code = models.PositiveIntegerField(_("MedDRA lowest level term code"), null=True, blank=True,
                                           validators=between(*MEDDRA_CODE_RANGE),
                                           help_text=_("Use the coding suggestions to find the code."))
    onset_date = models.DateField(_("onset date"), validators=trial_date())
    end_date = models.DateField(_("end date"), null=True, blank=True, validators=trial_date())
    grade = models.PositiveSmallIntegerField(_("CTCAE grade"), choices=Grade.choices)
    serious = models.BooleanField(_("serious"), default=False)
    serious_death = models.BooleanField(_("results in death"), default=False)
    serious_life_threatening = models.BooleanField(_("life-threatening"), default=False)
    serious_hospitalisation = models.BooleanField(_("requires or prolongs hospitalisation"), default=False)
    serious_disability = models.BooleanField(_("persistent or significant disability"), default=False)
    serious_congenital_anomaly = models.BooleanField(_("congenital anomaly"), default=False)
    serious_important_medical_event = models.BooleanField(_("important medical event"), default=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    action_iv = models.CharField(_("action taken with the IV study drug"), max_length=20, choices=ActionTaken.choices,
                                 default=ActionTaken.NONE)
    action_sc = models.CharField(_("action taken with the SC study drug"), max_length=20, choices=ActionTaken.choices,
                                 default=ActionTaken.NONE)
    causality_iv = models.CharField(_("causality to the IV study drug"), max_length=20, choices=Causality.choices, blank=True)
    causality_sc = models.CharField(_("causality to the SC study drug"), max_length=20, choices=Causality.choices, blank=True)
    aware_at = models.DateTimeField(_("investigator became aware at"), validators=trial_date())
    # Adverse events of special interest (safety.md).
    anemia = models.BooleanField(_("anemia (special interest)"), default=False)
    hb_nadir_g_dl = models.DecimalField(_("hemoglobin nadir (g/dL)"), max_digits=4, decimal_places=1, null=True, blank=True,
                                        validators=between(*HB_NADIR_G_DL))
    transfusion_units = models.PositiveSmallIntegerField(_("red-cell units transfused"), null=True, blank=True,
                                                         validators=between(0, MAX_TRANSFUSION_UNITS))
    bleeding = models.BooleanField(_("bleeding (special interest)"), default=False)
    bleeding_site = models.CharField(_("bleeding site"), max_length=100, blank=True)
    bleeding_severity = models.CharField(_("bleeding severity"), max_length=30, choices=BleedingSeverity.choices, blank=True)
    bleeding_intervention = models.CharField(_("bleeding intervention"), max_length=200, blank=True)
    # Derived on the server (invariant 8).
    related_iv = models.BooleanField(_("related to the IV study drug"), null=True, editable=False)
    related_sc = models.BooleanField(_("related to the SC study drug"), null=True, editable=False)
    pt_code = models.PositiveIntegerField(_("preferred term code"), null=True, editable=False)
    pt_name = models.CharField(_("preferred term"), max_length=200, blank=True, editable=False)
    soc_code = models.PositiveIntegerField(_("primary SOC code"), null=True, editable=False)
    soc_name = models.CharField(_("primary system organ class"), max_length=200, blank=True, editable=False)
    exemption = models.CharField(_("reporting exemption"), max_length=300, blank=True, editable=False)
    treatment_emergent = models.BooleanField(_("treatment-emergent"), null=True, editable=False)
    # Soft consistency check against the Death form (safety/specs.py "AE and death"): blank when
    # consistent; re-derived whenever this AE or the participant's Death form is saved.
    death_check = models.CharField(_("check against the Death form"), max_length=300, blank=True, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("adverse event")

    def __str__(self) -> str:
        return f"AE {self.pk}: {self.verbatim_term}"

    def clean(self) -> None:
        # Cross-field hard limits of one AE (safety/limits.py).
        super().clean()
        errors = ae_limit_errors(self)
        if errors:
            raise ValidationError(errors)

    @property
    def criteria(self) -> list[str]:
        return [str(self._meta.get_field(n).verbose_name) for n in SERIOUSNESS_CRITERIA if getattr(self, n)]

    @property
    def fatal_or_life_threatening(self) -> bool:
        return bool(self.serious_death or self.serious_life_threatening)

    @property
    def is_exempt(self) -> bool:
        return bool(self.exemption)


# --- SAE reports, clocks, submissions ------------------------------------------------------


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class SAEReport(NoDeleteModel):
    """An initial (sequence 0) or follow-up report of a serious AE, site -> sponsor.

    ``snapshot`` is the AE as reported; ``changes`` what changed since the previous report."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="sae_reports")
    sequence = models.PositiveSmallIntegerField(default=0)
    snapshot = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["adverse_event_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["adverse_event", "sequence"], name="sae_report_sequence_unique")]
        # The API's ``status`` filter, in the API's order.
        indexes = [models.Index(fields=["status", "adverse_event", "sequence"], name="sae_report_status")]

    @property
    def is_followup(self) -> bool:
        return self.sequence > 0


class ClockVisibility(models.TextChoices):
    # Shown to every safety reader with its real state.
    OPEN = "open", _("Everyone with safety access")
    # A SUSAR clock: blinded readers see "potential SUSAR" then "closed"; only
    # pharmacovigilance sees its real state (its outcome would reveal the arm).
    MASKED = "masked", _("Masked for blinded readers")
    # Kept for rows written before pharmacovigilance's clocks moved to their own table
    # (``PvClock``): never written now, and never shown to blinded readers.
    PV_ONLY = "pv_only", _("Pharmacovigilance only")


class Clock(NoDeleteModel):
    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="clocks")
    kind = models.CharField(max_length=30, choices=[(k.value, k.value) for k in ClockKind])
    visibility = models.CharField(max_length=10, choices=ClockVisibility.choices, default=ClockVisibility.OPEN)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    due_soon_at = models.DateTimeField()  # stored so the clock job selects by index
    met_at = models.DateTimeField(null=True, blank=True)
    # Closed without a report (the case was not a SUSAR, or the AE was retracted).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)
    due_soon_notified_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalation = models.TextField(blank=True)  # to whom the overdue clock was escalated
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["due_soon_at"], name="clock_open_due_soon", condition=models.Q(met_at__isnull=True, closed_at__isnull=True)),
            models.Index(fields=["due_at"], name="clock_open_due", condition=models.Q(met_at__isnull=True, closed_at__isnull=True)),
            # The API's ``kind`` filter, in the board's order.
            models.Index(fields=["kind", "due_at"], name="clock_kind_due"),
        ]

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.closed_at is None

    @property
    def is_susar(self) -> bool:
        return self.kind not in (ClockKind.SAE_INITIAL, ClockKind.SAE_FOLLOWUP)


class Submission(NoDeleteModel):
    """A report sent: when, by whom, to whom, with what reference. Meets its clock."""

    clock = models.ForeignKey(Clock, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions")
    report = models.ForeignKey(SAEReport, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions")
    submitted_at = models.DateTimeField(_("submitted at"), validators=trial_date())
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(_("submitted to"), max_length=200)
    reference = models.CharField(_("reference"), max_length=100)
    late = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["submitted_at", "pk"]


# --- pharmacovigilance's own tables ----------------------------------------------------------
#
# A row that exists only because a case was decided a SUSAR (and so only in the active arm) must
# take no id, count, ordering position or timestamp from anything a blinded reader sees. These
# tables, their history tables and their audit chains are read by pharmacovigilance only; the
# blinded ``Clock`` and ``Submission`` tables evolve identically whichever way a case is decided.


class PvClock(NoDeleteModel):
    """A SUSAR reporting clock pharmacovigilance tracks after deciding the case was a SUSAR:
    the continuation of a masked clock closed for blinded readers at the decision, or the 7-day
    clock of a decided SUSAR that became fatal or life-threatening (CTR Art. 42(2))."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="pv_clocks")
    continues = models.ForeignKey(Clock, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=[(k.value, k.value) for k in ClockKind])
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    due_soon_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)
    due_soon_notified_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    visibility = "pv_only"  # read by the shared clock rows (never a column: the table is PV's)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["due_soon_at"], name="pvclock_open_due_soon",
                                condition=models.Q(met_at__isnull=True, closed_at__isnull=True))]

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.closed_at is None

    @property
    def is_susar(self) -> bool:
        return True


class PvSubmission(NoDeleteModel):
    """The SUSAR report sent to the authority: meets its pharmacovigilance clock."""

    clock = models.ForeignKey(PvClock, on_delete=models.PROTECT, related_name="submissions")
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(_("submitted to"), max_length=200)
    reference = models.CharField(_("reference"), max_length=100)
    late = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["submitted_at", "pk"]


class FollowUpRequest(NoDeleteModel):
    """The sponsor's request to the site for follow-up on an SAE (safety.md: the follow-up
    clock starts when "the sponsor asks"). Answered by the follow-up report it opened."""

    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="followup_requests")
    question = models.TextField(_("what the site should follow up on"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    report = models.ForeignKey(SAEReport, on_delete=models.PROTECT, related_name="followup_requests")
    clock = models.ForeignKey(Clock, on_delete=models.PROTECT, related_name="+")
    history = audited_history()

    class Meta:
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"Follow-up request {self.pk} on AE {self.adverse_event_id}"


# --- the expedited-reporting decision ------------------------------------------------------


class CaseStatus(models.TextChoices):
    NOT_CANDIDATE = "not_candidate", _("Not a potential SUSAR")
    POTENTIAL_SUSAR = "potential_susar", _("Potential SUSAR")
    CLOSED = "closed", _("Closed")


class PvOutcome(models.TextChoices):
    SUSAR = "susar", _("SUSAR (reported)")
    NOT_SUSAR = "not_susar", _("Not a SUSAR")


class ExpeditedAssessment(NoDeleteModel):
    """The sponsor's blinded assessment of a serious AE (safety.md, steps 2-3)."""

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="assessment")
    product = models.CharField(_("product the participant may have received"), max_length=40)
    route = models.CharField(max_length=2)  # "iv" or "sc": the route of that product
    sponsor_causality_iv = models.CharField(_("sponsor causality, IV study drug"), max_length=20, choices=Causality.choices, blank=True)
    sponsor_causality_sc = models.CharField(_("sponsor causality, SC study drug"), max_length=20, choices=Causality.choices, blank=True)
    related = models.BooleanField()
    expected = models.BooleanField(_("expected under the reference safety information"))
    rsi_reference = models.CharField(_("reference safety information (document, version)"), max_length=200)
    sponsor_aware_at = models.DateTimeField(_("sponsor awareness"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=CaseStatus.choices)
    # Pharmacovigilance only (never shown to blinded readers).
    pv_outcome = models.CharField(max_length=20, choices=PvOutcome.choices, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = audited_history(excluded_fields=["pv_outcome"])

    class Meta:
        ordering = ["-assessed_at"]


# --- adjudication --------------------------------------------------------------------------


class AdjudicationStatus(models.TextChoices):
    OPEN = "open", _("Awaiting two reviews")
    THIRD_REVIEW = "third_review", _("Disagreement: third reviewer or committee")
    FINAL = "final", _("Final")


class SpecialInterest(models.TextChoices):
    NONE = "none", _("None")
    ANEMIA = "anemia", _("Anemia")
    BLEEDING = "bleeding", _("Bleeding")


class Adjudication(NoDeleteModel):
    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="adjudication")
    status = models.CharField(max_length=20, choices=AdjudicationStatus.choices, default=AdjudicationStatus.OPEN)
    round = models.PositiveSmallIntegerField(default=1)  # +1 each time a change to the AE reopens it
    source_version = models.PositiveIntegerField()  # the AE version being adjudicated
    final = models.JSONField(null=True, blank=True)  # the final classification
    final_by = models.CharField(max_length=300, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["created_at", "pk"]
        # The queue's ``status`` filter, in the queue's order.
        indexes = [models.Index(fields=["status", "created_at"], name="adjudication_status_created")]


class AdjudicationReview(NoDeleteModel):
    adjudication = models.ForeignKey(Adjudication, on_delete=models.PROTECT, related_name="reviews")
    round = models.PositiveSmallIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tiebreak = models.BooleanField(default=False)
    serious = models.BooleanField(_("serious"))
    related_iv = models.BooleanField(_("related to the IV study drug"))
    related_sc = models.BooleanField(_("related to the SC study drug"))
    expected = models.BooleanField(_("expected"))
    llt_code = models.PositiveIntegerField(_("final coded term (LLT code)"), validators=between(*MEDDRA_CODE_RANGE))
    special_interest = models.CharField(_("special interest"), max_length=20, choices=SpecialInterest.choices)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["adjudication", "round", "reviewer"], name="one_review_per_reviewer_round")]

    CLASSIFICATION = ("serious", "related_iv", "related_sc", "expected", "llt_code", "special_interest")

    def classification(self) -> dict:
        return {name: getattr(self, name) for name in self.CLASSIFICATION}
