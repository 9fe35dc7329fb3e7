from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from ecrf.core.errors import DomainError, ErrorCode


def full_clean_or_400(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run model validation; turn its errors into the project's 400 with per-field messages."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        first = next(iter(fields.items()))
        raise DomainError(ErrorCode.INVALID, f"{first[0]}: {first[1][0]}", fields=fields) from exc
