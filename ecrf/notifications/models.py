"""The outbox: written in the same transaction as the event that causes it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")


class Notification(models.Model):
    """One outbox entry. Pages and the API name it by ``public_id``, never by its primary key:
    the key's sequence is shared by every recipient, so gaps in a user's own notification ids
    would count the notifications others received meanwhile (pharmacovigilance's SUSAR clocks
    exist only in the active arm; blinding: ids reveal no hidden row)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=60)
    # What caused it: "<app_label.model>:<pk>" or another stable key of the source event.
    source = models.CharField(max_length=120)
    threshold = models.CharField(max_length=40, blank=True, default="")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The same thing is never notified twice; distinct events each are.
            models.UniqueConstraint(fields=["source", "recipient", "kind", "threshold"], name="notification_once_per_source_recipient_kind_threshold"),
        ]
        indexes = [models.Index(fields=["state", "created_at"]), models.Index(fields=["recipient", "delivered_at"]),
                   # A user's inbox, newest first, with the API's ``kind`` filter, and its unread count.
                   models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
                   models.Index(fields=["recipient", "kind", "-created_at"], name="notification_inbox_kind"),
                   models.Index(fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.recipient_id}: {self.subject}"
