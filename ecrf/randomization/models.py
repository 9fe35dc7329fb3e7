"""Unblinded tables: allocation lists, their slots, the assignment of a slot to a participant, and
unblinding records. ARCHITECTURE.md "Blinding by construction": no blinded model has a foreign key to
these, blinded apps never import this module (import-linter contract in ``.importlinter``), and
the foreign keys from here to blinded models have no reverse accessor (``related_name="+"``).
Readable by the statistician alone (lists, slots); one participant's arm through
``ecrf.randomization.unblinding.assignment_visible_to`` only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ecrf.audit.history import audited_history
from ecrf.crf.models import NoDeleteModel


class Arm(models.TextChoices):
    ACTIVE = "active", "Active"
    PLACEBO = "placebo", "Placebo"


class ListSource(models.TextChoices):
    GENERATED = "generated", "Generated from a recorded seed"
    IMPORTED = "imported", "Imported from the statistician's file"


class AllocationList(NoDeleteModel):
    source = models.CharField(max_length=20, choices=ListSource.choices)
    seed = models.CharField(max_length=200, blank=True)
    block_sizes = models.JSONField(default=list)
    ratio = models.JSONField(default=list)
    factors = models.JSONField(default=list)  # stratification factors, e.g. ["site", "phenotype"]
    slots_per_stratum = models.PositiveIntegerField(null=True, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    checksum = models.CharField(max_length=64)  # allocation.list_checksum of the slots
    slot_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["pk"]


class Stratum(NoDeleteModel):
    """One stratum's sequence; ``next_sequence`` is taken under a row lock at randomization."""

    key = models.CharField(max_length=200, unique=True)  # factor values joined by "|", e.g. "ATH|MALS"
    allocation_list = models.ForeignKey(AllocationList, on_delete=models.PROTECT, related_name="strata")
    size = models.PositiveIntegerField()
    next_sequence = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key"]


class Slot(NoDeleteModel):
    allocation_list = models.ForeignKey(AllocationList, on_delete=models.PROTECT, related_name="slots")
    stratum = models.ForeignKey(Stratum, on_delete=models.PROTECT, related_name="slots")
    sequence = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    block_size = models.PositiveIntegerField()
    arm = models.CharField(max_length=10, choices=Arm.choices)

    class Meta:
        ordering = ["stratum_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["stratum", "sequence"], name="slot_unique_sequence_per_stratum")]


class Assignment(NoDeleteModel):
    """A participant's slot: taken once, never changed."""

    participant = models.OneToOneField("crf.Participant", on_delete=models.PROTECT, related_name="+")
    slot = models.OneToOneField(Slot, on_delete=models.PROTECT, related_name="assignment")
    stratum_key = models.CharField(max_length=200)
    phenotype = models.CharField(max_length=20)  # fixed at randomization (stratum and therapy)
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = audited_history()

    class Meta:
        ordering = ["assigned_at", "pk"]


class SubjectCounter(models.Model):
    """The last subject number given at a site (locked while the next one is given)."""

    site = models.OneToOneField("study.Site", on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.site_id}: {self.last_number}"


class UnblindingKind(models.TextChoices):
    EMERGENCY = "emergency", "Emergency unblinding of one participant"
    SUSAR = "susar", "Pharmacovigilance: one potential SUSAR"
    STUDY = "study", "Study unblinding after the study lock"


class Unblinding(NoDeleteModel):
    """Who was shown which participant's arm (or the whole study), when and why. No arm here."""

    kind = models.CharField(max_length=20, choices=UnblindingKind.choices)
    participant = models.ForeignKey("crf.Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(default=timezone.now)
    safety_contact_notified_at = models.DateTimeField(null=True, blank=True)
    history = audited_history()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["user", "participant", "kind"])]
        constraints = [models.UniqueConstraint(fields=["kind"], condition=models.Q(kind="study"),
                                               name="unblinding_study_once")]
