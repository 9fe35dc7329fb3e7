"""Words for codes: pages and the API show a form's and a field's label, not its key."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from ecrf.crf.registry import get_spec


def form_label(key: str) -> str:
    try:
        return str(get_spec(key).label)
    except KeyError:
        return key


def field_label(key: str, field: str) -> str:
    if not field:
        return _("the whole form")
    try:
        return str(get_spec(key).model._meta.get_field(field).verbose_name)
    except (KeyError, FieldDoesNotExist):
        return field
