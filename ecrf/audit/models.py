"""The audit trail: hash-chained history rows and the append-only event log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.chain import GENESIS, HASH_FIELDS, head_seal, row_digest
from ecrf.core.errors import DomainError, ErrorCode


def audit_key() -> bytes:
    """The chain's HMAC key, from the environment (``AUDIT_HMAC_KEY``), never from the database."""
    return settings.AUDIT_HMAC_KEY.encode("utf-8")


class ChainHead(models.Model):
    """The last link of one audit table; locked while a row is appended (serialises writers).

    ``seal`` is a keyed MAC over (table, last_pk, last_hash): a head moved back by hand to hide
    removed rows no longer matches its seal."""

    table = models.CharField(max_length=100, primary_key=True)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    last_pk = models.BigIntegerField(null=True)
    seal = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"{self.table} @ {self.last_pk}"

    def advance(self, *, last_hash: str, last_pk: int | None) -> None:
        self.last_hash, self.last_pk = last_hash, last_pk
        self.seal = head_seal(self.table, last_pk, last_hash, key=audit_key())
        self.save(update_fields=["last_hash", "last_pk", "seal"])

    def seal_holds(self) -> bool:
        return self.seal == head_seal(self.table, self.last_pk, self.last_hash, key=audit_key())


def chain_content(instance: models.Model) -> dict[str, Any]:
    """The audited columns of a row, by column name, excluding the chain's own columns."""
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in HASH_FIELDS and not f.primary_key
    }


def append_to_chain(instance: models.Model) -> None:
    """Insert ``instance`` as the next link of its table's chain (within a transaction)."""
    table = instance._meta.db_table
    with transaction.atomic():
        ChainHead.objects.get_or_create(table=table)
        head = ChainHead.objects.select_for_update().get(table=table)
        instance.prev_hash = head.last_hash
        instance.row_hash = row_digest(head.last_hash, table, chain_content(instance), key=audit_key())
        models.Model.save(instance, force_insert=True)
        head.advance(last_hash=instance.row_hash, last_pk=instance.pk)


def append_many_to_chain(model: type[models.Model], records: list[models.Model], *, batch_size: int = 1000) -> None:
    """Insert ``records`` (unsaved rows of one audit ``model``) as the next links of its chain,
    in one bulk insert under one lock of the chain head: for bulk derivations (thousands of
    history rows), linked exactly as ``append_to_chain`` links one row."""
    if not records:
        return
    table = model._meta.db_table
    with transaction.atomic():
        ChainHead.objects.get_or_create(table=table)
        head = ChainHead.objects.select_for_update().get(table=table)
        prev = head.last_hash
        key = audit_key()
        for record in records:
            record.prev_hash = prev
            record.row_hash = row_digest(prev, table, chain_content(record), key=key)
            prev = record.row_hash
        model.objects.bulk_create(records, batch_size=batch_size)
        head.advance(last_hash=prev, last_pk=records[-1].pk if records[-1].pk is not None else (
            model.objects.order_by("-pk").values_list("pk", flat=True).first()))


# The longest reason for a change accepted (a paragraph). The history tables keep it in a text
# column (SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD), so the limit is this project's
# rule, the same on every database: the page forms and the API state it and refuse beyond it.
REASON_MAX_LENGTH = 1000


class ChainedRecord(models.Model):
    """Abstract base of every append-only audit row: insert once, never update or delete."""

    prev_hash = models.CharField(max_length=64, editable=False, default="")
    row_hash = models.CharField(max_length=64, editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Audit rows are append-only; they are never updated.")
        reason = getattr(self, "history_change_reason", None)
        if reason and len(reason) > REASON_MAX_LENGTH:
            # Refused before the insert, inside the write's transaction: the change is not made.
            raise DomainError(ErrorCode.INVALID, f"The reason for the change is {len(reason)} characters long; at most "
                              f"{REASON_MAX_LENGTH} are accepted: shorten it. Nothing was saved.",
                              fields={"reason": f"At most {REASON_MAX_LENGTH} characters ({len(reason)} given)."})
        append_to_chain(self)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit rows are append-only; they are never deleted.")


class EventKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKOUT = "lockout", _("Account locked after failed logins")
    LOGOUT = "logout", _("Logout")
    REAUTH_FAILED = "reauth_failed", _("Failed re-authentication")
    USER_CREATED = "user_created", _("User created")
    ROLE_CHANGE = "role_change", _("Role change")
    SITE_MEMBERSHIP_CHANGE = "site_membership_change", _("Site membership change")
    STUDY_CONFIG_CHANGE = "study_config_change", _("Study configuration change")
    DOWNLOAD = "download", _("Download")
    UNBLINDING = "unblinding", _("Unblinding")
    SIGNATURE = "signature", _("Electronic signature")
    FREEZE = "freeze", _("Freeze")
    UNFREEZE = "unfreeze", _("Unfreeze")
    LOCK = "lock", _("Lock")
    UNLOCK = "unlock", _("Unlock")
    ACCESS_DENIED = "access_denied", _("Access denied")
    AUDIT_VERIFIED = "audit_verified", _("Audit chain verified")


class Event(ChainedRecord):
    """The append-only event log (Part 11): who did what, when (UTC), from where."""

    kind = models.CharField(max_length=40, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    site = models.ForeignKey("study.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # Never holds anything blinded: no arm, no product (ARCHITECTURE.md invariant 6).
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "at"]), models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z {self.kind} {self.actor_username}"
