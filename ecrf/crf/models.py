"""The participant, the abstract CRF base every form uses, and the freeze/lock scopes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.core.errors import DomainError, ErrorCode

_DELETE_REFUSED = "Clinical data is never deleted; retract the entry with a reason instead."


class NoDeleteQuerySet(models.QuerySet):
    def delete(self) -> Any:
        raise DomainError(ErrorCode.DELETE_REFUSED, _DELETE_REFUSED)


class NoDeleteModel(models.Model):
    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        # ARCHITECTURE.md invariant 1: nothing clinical is hard-deleted.
        raise DomainError(ErrorCode.DELETE_REFUSED, _DELETE_REFUSED)


class Participant(NoDeleteModel):
    """A screened patient: screening number at a site; subject ID once randomized.

    Blinded by construction: whether and when randomized, nothing about the arm.
    """

    site = models.ForeignKey("study.Site", on_delete=models.PROTECT, related_name="participants", verbose_name=_("site"))
    screening_number = models.CharField(_("screening number"), max_length=30)
    subject_id = models.CharField(_("subject ID"), max_length=30, null=True, blank=True, unique=True)
    randomized_at = models.DateTimeField(_("randomized at"), null=True, blank=True)
    emergency_unblinded = models.BooleanField(_("emergency unblinded"), default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", editable=False)
    history = audited_history()

    class Meta:
        ordering = ["site__code", "screening_number"]
        # The API's ``screening_number`` filter without a site (the unique constraint leads with it).
        indexes = [models.Index(fields=["screening_number"], name="participant_screening_number")]
        constraints = [
            models.UniqueConstraint(fields=["site", "screening_number"], name="participant_screening_number_unique_per_site"),
        ]

    def __str__(self) -> str:
        return self.subject_id or self.screening_number

    @property
    def label(self) -> str:
        return self.subject_id or self.screening_number

    @property
    def is_randomized(self) -> bool:
        return self.randomized_at is not None


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    NOT_DONE = "not_done", _("Not done")
    RETRACTED = "retracted", _("Retracted")


class CRF(NoDeleteModel):
    """Abstract base of every case report form (one base, composition over mixins).

    Entry status, optimistic-concurrency ``version``, who entered and changed it, and a
    hash-chained history with user and reason. Writes go through ``ecrf.crf.services`` only.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="%(app_label)s_%(class)s_set", verbose_name=_("participant"))
    status = models.CharField(_("entry status"), max_length=20, choices=EntryStatus.choices, default=EntryStatus.DRAFT)
    status_reason = models.TextField(_("status reason"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = audited_history(inherit=True)

    class Meta:
        abstract = True
        ordering = ["participant_id", "pk"]
        # The API's ``status`` filter and the home page's count of a user's drafts read this
        # (status, participant) index instead of scanning the table; a subclass that declares
        # indexes of its own keeps it with ``[*CRF.Meta.indexes, ...]``.
        indexes = [models.Index(fields=["status", "participant"], name="%(class)s_status")]

    @property
    def ever_submitted(self) -> bool:
        return self.submitted_at is not None


class ScopeLevel(models.TextChoices):
    FORM = "form", _("Form")
    PARTICIPANT = "participant", _("Participant")
    SITE = "site", _("Site")
    STUDY = "study", _("Study")


class ScopeKind(models.TextChoices):
    FREEZE = "freeze", _("Frozen")
    LOCK = "lock", _("Locked")


class LockScope(NoDeleteModel):
    """A freeze or lock over a form, participant, site or the study. The write guard refuses
    every write inside an active scope; releasing it is an audited unlock with a reason."""

    level = models.CharField(max_length=20, choices=ScopeLevel.choices)
    kind = models.CharField(max_length=20, choices=ScopeKind.choices)
    site = models.ForeignKey("study.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form_id = models.PositiveBigIntegerField(null=True, blank=True)
    set_at = models.DateTimeField(default=timezone.now)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    release_reason = models.TextField(blank=True)
    history = audited_history()

    class Meta:
        indexes = [models.Index(fields=["level", "released_at"])]
        constraints = [
            models.CheckConstraint(
                name="lockscope_target_matches_level",
                condition=(
                    models.Q(level="study", site__isnull=True, participant__isnull=True, form_id__isnull=True)
                    | models.Q(level="site", site__isnull=False, participant__isnull=True, form_id__isnull=True)
                    | models.Q(level="participant", participant__isnull=False, form_id__isnull=True)
                    | models.Q(level="form", form_type__isnull=False, form_id__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_level_display()})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
