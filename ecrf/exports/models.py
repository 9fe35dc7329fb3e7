"""Export jobs and data cuts.

An ``ExportJob`` is one package cut from one source: the study lock (``LockScope`` of level
study, kind lock) or a ``DataCut``, blinded or unblinded. Its row records the request, its
progress and, once done, the package's file name, its SHA-256 and the SHA-256 of its
``manifest.json`` (the hash ``verify_export`` checks the manifest against). The job table is
not clinical data: its progress is written often and is not audited; who requested and who
downloaded a package are (the request on the row, each download in the event log).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.crf.models import NoDeleteModel


class DataCut(NoDeleteModel):
    """A frozen snapshot for an interim review: a participant set as it stood at a cut-off time.

    A closed cut is unblinded (the DSMB's closed report): only the statistician and the DSMB may
    export or open it. An open cut is blinded."""

    label = models.CharField(_("label"), max_length=200)
    cutoff_at = models.DateTimeField(_("cut-off time"))
    participant_ids = models.JSONField(_("participants"), default=list)  # ascending Participant ids
    closed = models.BooleanField(_("closed (unblinded)"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.cutoff_at:%Y-%m-%d %H:%M}Z)"


class ExportSource(models.TextChoices):
    LOCK = "lock", _("Study lock")
    CUT = "cut", _("Data cut")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


ACTIVE_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportJob(models.Model):
    source = models.CharField(max_length=10, choices=ExportSource.choices)
    lock = models.ForeignKey("crf.LockScope", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cut = models.ForeignKey(DataCut, null=True, blank=True, on_delete=models.PROTECT, related_name="exports")
    blinded = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=200, blank=True)  # what is being written now
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the zip
    manifest_sha256 = models.CharField(max_length=64, blank=True)  # of its manifest.json
    odm_valid = models.BooleanField(null=True)  # the ODM validated against the ODM 1.3.2 schema
    odm_validation = models.TextField(blank=True)  # the schema's first error, if any
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(name="exportjob_one_source", condition=(
                models.Q(source="lock", lock__isnull=False, cut__isnull=True)
                | models.Q(source="cut", lock__isnull=True, cut__isnull=False))),
            # A second export of the same source and kind while one is queued or running is
            # refused (the service says so; this holds it against a race between two requests).
            models.UniqueConstraint(fields=["lock", "blinded"], condition=models.Q(status__in=ACTIVE_STATUSES, lock__isnull=False),
                                    name="exportjob_one_active_per_lock_and_kind"),
            models.UniqueConstraint(fields=["cut", "blinded"], condition=models.Q(status__in=ACTIVE_STATUSES, cut__isnull=False),
                                    name="exportjob_one_active_per_cut_and_kind"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.get_source_display()} {self.lock_id or self.cut_id}, {self.kind_label})"

    @property
    def source_id(self) -> int:
        return self.lock_id if self.source == ExportSource.LOCK else self.cut_id  # type: ignore[return-value]

    @property
    def kind_label(self) -> str:
        return "blinded" if self.blinded else "unblinded"

    @property
    def is_done(self) -> bool:
        return self.status == ExportStatus.DONE
