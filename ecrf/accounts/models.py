from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.audit.models import ChainedRecord


class UserHistoryBase(ChainedRecord):
    """The user's history rows also record the roles (groups) and sites held at that moment,
    so a role change appears in the user's own history, chained like every audit row."""

    roles_held = models.CharField(max_length=400, blank=True, default="")
    sites_held = models.TextField(blank=True, default="")

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person with their own account (Part 11: no shared accounts)."""

    sites = models.ManyToManyField("study.Site", blank=True, related_name="members", verbose_name=_("sites"))
    is_lead_safety_officer = models.BooleanField(_("lead safety officer"), default=False)
    failed_login_count = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Account and role changes are audited too (standards.md, Part 11).
    history = audited_history(bases=[UserHistoryBase],
                              excluded_fields=["password", "last_login", "failed_login_count", "locked_until"])

    class Meta:
        ordering = ["username"]

    @property
    def is_locked_out(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    REVOKED = "revoked", _("Revoked")


class RoleGrant(models.Model):
    """An unblinded role (statistician, pharmacist, DSMB, pharmacovigilance) for one user.

    Separation of duties: requested by one administrator with a reason, approved by a second
    administrator; neither may be the grantee. Membership of an unblinded group exists only
    while a grant is ``granted`` (the group signal refuses any other way in)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_grants")
    role = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=GrantStatus.choices, default=GrantStatus.PENDING)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_ip = models.GenericIPAddressField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_ip = models.GenericIPAddressField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    history = audited_history()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], condition=models.Q(status__in=["pending", "granted"]),
                                    name="rolegrant_one_open_grant_per_user_role"),
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.user} ({self.status})"
