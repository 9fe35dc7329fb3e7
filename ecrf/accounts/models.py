from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history


class User(AbstractUser):
    """A person with their own account (Part 11: no shared accounts)."""

    sites = models.ManyToManyField("study.Site", blank=True, related_name="members", verbose_name=_("sites"))
    is_lead_safety_officer = models.BooleanField(_("lead safety officer"), default=False)
    failed_login_count = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Account and role changes are audited too (standards.md, Part 11).
    history = audited_history(excluded_fields=["password", "last_login", "failed_login_count", "locked_until"])

    class Meta:
        ordering = ["username"]

    @property
    def is_locked_out(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
