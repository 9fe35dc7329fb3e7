"""The pharmacy app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class PharmacyError(AppErrorCode):
    PREPARATION_RETRACTED = "preparation_already_retracted", 409
