"""Data queries, their threads of messages, and the runs of the edit checks.

A query asks the site about one field (or the whole) of one form of one participant. It is raised
by hand (a data manager or monitor) or by an edit check (``ecrf.crf.checks``); a check's query is
keyed by (check code, check version, target), so a check finds each problem at most once however
often and however concurrently it runs. Queries are audited like clinical rows (no delete, every
change in the hash-chained history); a query's messages are append-only audit rows themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.audit.models import ChainedRecord
from ecrf.crf.models import NoDeleteModel, Participant


class QueryState(models.TextChoices):
    OPEN = "open", _("Open")  # waiting for the site
    ANSWERED = "answered", _("Answered")  # the site answered; the data team decides
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")  # raised in error; never a resolution of a problem


# Queries that still stand between the data and a lock.
UNRESOLVED_STATES = (QueryState.OPEN, QueryState.ANSWERED)


class Query(NoDeleteModel):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="queries",
                                    verbose_name=_("participant"))
    form_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form_id = models.PositiveBigIntegerField(_("form id"), null=True, blank=True)  # None: a missing form
    form_key = models.CharField(_("form"), max_length=100)
    field = models.CharField(_("field"), max_length=100, blank=True)  # "": the form as a whole
    item = models.CharField(_("item"), max_length=200, blank=True)
    check_code = models.CharField(_("edit check"), max_length=20, null=True, blank=True)  # None: raised by hand
    check_version = models.PositiveIntegerField(_("check version"), null=True, blank=True)
    target_key = models.CharField(max_length=400)
    text = models.TextField(_("question"))
    severity = models.CharField(_("severity"), max_length=10, blank=True)  # a check's; "" by hand
    state = models.CharField(_("state"), max_length=20, choices=QueryState.choices, default=QueryState.OPEN)
    # A draft (released_at is None) is seen by the data team only, until it is released to the site.
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    # Closed by hand while the check still finds the problem: "confirmed as correct", so that the
    # next run leaves it closed.
    accepted = models.BooleanField(_("confirmed as correct"), default=False)
    # Closed by a run because the check no longer finds the problem; a run reopens it if it comes back.
    auto_closed = models.BooleanField(_("resolved by the check"), default=False)
    assignee_role = models.CharField(_("assigned to (role)"), max_length=30, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("assigned to"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")  # None: an edit check
    opened_by_run = models.ForeignKey("queries.CheckRun", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["opened_at", "pk"]
        verbose_name = _("query")
        verbose_name_plural = _("queries")
        constraints = [
            # One query per problem a check finds: two runs at once insert it once (ON CONFLICT).
            models.UniqueConstraint(fields=["check_code", "check_version", "target_key"],
                                    condition=Q(check_code__isnull=False), name="query_one_per_check_target"),
            models.CheckConstraint(name="query_check_has_version",
                                   condition=Q(check_code__isnull=True, check_version__isnull=True)
                                   | Q(check_code__isnull=False, check_version__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["state", "released_at"]),
            models.Index(fields=["form_type", "form_id"]),
            models.Index(fields=["participant", "state"]),
            # The inbox's and the API's order (oldest first), and their ``form`` and unreleased
            # (``draft=yes``) filters in that order (ecrf.queries.selectors.filter_queries); the
            # ``check`` filter reads the unique (check_code, ...) constraint's index.
            models.Index(fields=["opened_at", "id"], name="query_opened"),
            models.Index(fields=["form_key", "opened_at"], name="query_form_opened"),
            models.Index(fields=["opened_at"], name="query_unreleased_opened", condition=Q(released_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Query #{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.released_at is None

    @property
    def is_unresolved(self) -> bool:
        return self.state in UNRESOLVED_STATES


class MessageKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    RELEASED = "released", _("Released to the site")
    MESSAGE = "message", _("Message")
    ANSWER = "answer", _("Answer")
    CLOSED = "closed", _("Closed")
    ACCEPTED = "accepted", _("Closed, confirmed as correct")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")
    RESOLVED = "resolved", _("Resolved by the check")
    RECURRED = "recurred", _("Reopened by the check")


class QueryMessage(ChainedRecord):
    """One entry of a query's thread: append-only and hash-chained like the audit trail."""

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")  # None: the edit-check engine
    text = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    # Drafts' messages are the data team's until the query is released (the site then sees them).
    internal = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on query #{self.query_id}"


class RunTrigger(models.TextChoices):
    AFTER_SAVE = "after_save", _("After a save")
    BEAT = "beat", _("Scheduled sweep")
    ON_DEMAND = "on_demand", _("On demand")
    SYNTHETIC = "synthetic", _("Demo data")


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CheckRun(NoDeleteModel):
    """One run of the edit checks: what triggered it, over what, its progress and results.

    Operational bookkeeping, not clinical data: the queries it opens and closes carry their own
    history; the run records counts only (``results``: per check code, opened / reopened / closed)."""

    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    # None: every participant; otherwise the participants the run looked at.
    participant_ids = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=RunState.choices, default=RunState.QUEUED)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checks_total = models.PositiveIntegerField(default=0)
    checks_done = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    skipped_locked = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Check run #{self.pk}"

    @property
    def progress_percent(self) -> int:
        if self.state == RunState.DONE:
            return 100
        return int(100 * self.checks_done / self.checks_total) if self.checks_total else 0


class CheckRequest(models.Model):
    """A participant whose forms changed since its checks last ran: the after-save run's outbox
    (invariant 9: recorded in the write's transaction, enqueued after the commit). One row per
    participant, so a burst of saves (an import, the demo data) enqueues one run, not one per save."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="+")
    pending = models.BooleanField(default=True)
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Check request for participant {self.participant_id}"
