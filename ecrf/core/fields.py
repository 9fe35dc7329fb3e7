"""Form fields for dates and times that cannot be misread (ARCHITECTURE.md "Time").

The entry formats are ISO 8601 only in every language (``ecrf/formats``); these fields add what
Django's own do not: a refusal that shows the pattern to type, and a date-time that must carry its
time (Django reads "2026-12-01" as midnight, a moment nobody entered). A time without an offset is
read in the active time zone, the viewer's site zone, which the field's label area names.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecrf.formats.iso import DATE_PATTERN, DATETIME_PATTERN

_HAS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")


class EntryDateField(forms.DateField):
    entry_pattern = DATE_PATTERN
    zoned = False
    default_error_messages = {
        "invalid": _("Enter the date as YYYY-MM-DD, for example 2026-12-01 for 1 December 2026. Dates such as "
                     "01/12/2026 are refused because they read differently in different countries."),
    }

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", "") == "text":
            attrs.setdefault("placeholder", DATE_PATTERN)
        return attrs


class EntryDateTimeField(forms.DateTimeField):
    entry_pattern = DATETIME_PATTERN
    zoned = True
    default_error_messages = {
        "invalid": _("Enter the date and time as YYYY-MM-DD HH:MM, for example 2026-12-01 08:30 for 1 December 2026 "
                     "at 08:30. Dates such as 01/12/2026 are refused because they read differently in different countries."),
        "no_time": _("Enter the time as well (YYYY-MM-DD HH:MM): a date alone does not say when."),
    }

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and not _HAS_TIME.match(value.strip()):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                raise ValidationError(self.error_messages["no_time"], code="no_time")
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", "") == "text":
            attrs.setdefault("placeholder", DATETIME_PATTERN)
        return attrs


def entry_formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """``formfield_callback`` for model forms: the unambiguous date and date-time fields."""
    if isinstance(db_field, models.DateTimeField):
        kwargs.setdefault("form_class", EntryDateTimeField)
    elif isinstance(db_field, models.DateField):
        kwargs.setdefault("form_class", EntryDateField)
    return db_field.formfield(**kwargs)
