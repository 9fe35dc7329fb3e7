from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """``{{ counts|get:code }}``: a dict value by a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None
