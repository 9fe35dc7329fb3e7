"""Source data verifications and electronic signatures.

Both are records bound to the exact data they cover: the form's ``version`` and a SHA-256 over
its values (``ecrf.review.fingerprint``). Neither is ever updated nor deleted: a later change of
the data does not reset them, it makes them visibly stale (verification) or void (signature),
computed by comparing what they stored with the data as it is now (``ecrf.review.selectors``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.crf.models import NoDeleteModel, Participant


class Verification(NoDeleteModel):
    """A monitor's or data manager's source data verification of one form (or some of its fields)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    form_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    form_id = models.PositiveBigIntegerField()
    form_key = models.CharField(max_length=100)  # FormSpec key
    fields = models.JSONField(default=list, blank=True)  # [] = the whole form
    version = models.PositiveIntegerField()  # the form's version that was verified
    values_hash = models.CharField(max_length=64)  # SHA-256 of the verified values at that version
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["form_type", "form_id"]), models.Index(fields=["participant"])]

    def __str__(self) -> str:
        return f"SDV {self.form_key} #{self.form_id} v{self.version}"


class SignatureLevel(models.TextChoices):
    FORM = "form", _("Form")
    CASEBOOK = "casebook", _("Casebook")


class SignatureMeaning(models.TextChoices):
    # 21 CFR 11.50(a)(3): the meaning of the signature, shown with it.
    APPROVE = "approve", _("I approve the data of this casebook")
    REVIEW = "review", _("I have reviewed the data of this casebook")
    RESPONSIBILITY = "responsibility", _("I take responsibility for the data of this casebook")


def meaning_text(meaning: str, level: str) -> str:
    """The words a signature of ``level`` with ``meaning`` shows and signs: a form's signature
    says "this form" where a casebook's says "this casebook"."""
    text = str(SignatureMeaning(meaning).label)
    return text.replace("this casebook", "this form") if level == SignatureLevel.FORM else text


def meaning_choices(level: str) -> list[tuple[str, str]]:
    return [(value, meaning_text(value, level)) for value in SignatureMeaning.values]


class Signature(NoDeleteModel):
    """An investigator's electronic signature of one form or of a participant's whole casebook
    (21 CFR 11.50, 11.70, 11.200): signer, printed name, UTC time, meaning, and the exact record
    versions it covers with a SHA-256 over them."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=20, choices=SignatureLevel.choices)
    form_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    form_id = models.PositiveBigIntegerField(null=True, blank=True)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)  # the printed name at signing (11.50(a)(1))
    signed_at = models.DateTimeField(default=timezone.now)  # UTC (11.50(a)(2))
    meaning = models.CharField(max_length=30, choices=SignatureMeaning.choices)
    meaning_text = models.CharField(max_length=300)  # the words shown and signed (11.50(a)(3))
    records = models.JSONField(default=list)  # [{key, id, version, hash}] of every record it covers
    manifest_hash = models.CharField(max_length=64)  # SHA-256 over ``records`` (11.70)
    history = audited_history()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["participant", "level"])]
        constraints = [
            models.CheckConstraint(
                name="signature_target_matches_level",
                condition=(models.Q(level="casebook", form_id__isnull=True)
                           | models.Q(level="form", form_type__isnull=False, form_id__isnull=False)),
            )
        ]

    def __str__(self) -> str:
        return f"Signature {self.get_level_display()} by {self.signer_name} at {self.signed_at:%Y-%m-%d %H:%M}Z"
