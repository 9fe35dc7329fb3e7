"""Values as people read them (labels, not codes): ``{{ value|human }}`` and ``{{ seconds|hours_minutes }}``.

The API keeps full precision and raw codes; pages never show ``False``, ``{}``, ``[]`` or a
number to six decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

register = template.Library()
NOTHING = "—"


def _number(value: Decimal | float) -> str:
    """Two decimals at most, trailing zeros dropped: 1.375 -> 1.38, 2.50 -> 2.5, 3.0 -> 3."""
    rounded = Decimal(str(value)).quantize(Decimal("0.01"))
    text = format(rounded.normalize(), "f")
    return text


@register.filter
def human(value: Any) -> str:
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{date_format(local, 'Y-m-d H:i')} {local.strftime('%Z')}".strip()
    if isinstance(value, dt.date):
        return date_format(value, "Y-m-d")
    if isinstance(value, Decimal | float):
        return _number(value)
    if isinstance(value, dict):
        shown = [f"{k.replace('_', ' ')}: {human(v)}" for k, v in value.items() if v not in (None, "", [], {})]
        return "; ".join(shown) if shown else NOTHING
    if isinstance(value, list | tuple | set | frozenset):
        shown = [human(v) for v in value]
        return ", ".join(str(s).replace("_", " ") for s in shown) if shown else _("none")
    return str(value)


@register.filter
def hours_minutes(seconds: Any) -> str:
    """A duration in seconds as "23 h 59 min" (or "1 d 2 h" beyond two days); negative as overdue by."""
    if seconds is None or seconds == "":
        return NOTHING
    total = int(abs(float(seconds)) // 60)
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days >= 2:
        text = _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    else:
        text = _("%(h)s h %(m)s min") % {"h": days * 24 + hours, "m": minutes}
    return text if float(seconds) >= 0 else _("overdue by %(t)s") % {"t": text}
