"""Whether the viewer may open a form's pages, so that a page links only to what its viewer may
open (no link leads to a 403 or 404): ``{% if user|can_read_form:slug %}<a ...>{% endif %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ecrf.crf.registry import spec_for_slug
from ecrf.crf.selectors import can_read_forms

register = template.Library()


@register.filter
def can_read_form(user: Any, slug: str) -> bool:
    spec = spec_for_slug(slug)
    return spec is not None and can_read_forms(user, spec)
