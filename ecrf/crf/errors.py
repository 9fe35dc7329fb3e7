"""The CRF app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class CrfError(AppErrorCode):
    RETRACTED = "entry_retracted", 409
    NOT_RANDOMIZED = "not_randomized", 409
    STATUS_UNCHANGED = "status_unchanged", 409
    ALREADY_RANDOMIZED = "already_randomized", 409
