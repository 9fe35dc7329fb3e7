"""The trial's definition: sites and the study configuration (protocol constants)."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.study.protocol import DEFAULT_PROTOCOL, Protocol


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone (e.g. Europe/Athens)."), params={"value": value})


class Site(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    is_active = models.BooleanField(_("active"), default=True)
    history = audited_history()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StudyQuerySet(models.QuerySet):
    def current(self) -> Study | None:
        """The running study: the first row (there is one)."""
        return self.order_by("pk").first()

    def current_protocol(self) -> Protocol:
        """The running study's protocol constants, or the defaults before a study is set up."""
        study = self.current()
        return study.protocol if study else DEFAULT_PROTOCOL


class Study(models.Model):
    """One row: the running study's configuration. Protocol constants are overrides of
    ``ecrf.study.protocol.DEFAULT_PROTOCOL``; once the study is live, changes need a reason."""

    code = models.CharField(_("study code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    time_zone = models.CharField(
        _("study time zone"), max_length=64, default="Europe/Athens", validators=[validate_time_zone],
        help_text=_("Shown to roles without a site."),
    )
    is_live = models.BooleanField(_("live"), default=False)
    safety_contact_email = models.EmailField(_("sponsor safety contact"), blank=True)
    protocol_overrides = models.JSONField(_("protocol settings"), default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = audited_history()

    objects = StudyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return self.code

    @property
    def protocol(self) -> Protocol:
        return DEFAULT_PROTOCOL.with_overrides(self.protocol_overrides)

    def clean(self) -> None:
        try:
            protocol = self.protocol
        except ValueError as exc:
            raise ValidationError({"protocol_overrides": str(exc)}) from exc
        try:
            zoneinfo.ZoneInfo(protocol.sponsor_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"protocol_overrides": f"sponsor_time_zone {protocol.sponsor_time_zone!r} is not an IANA time zone."}) from None
