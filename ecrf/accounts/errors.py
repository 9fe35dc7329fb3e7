"""The accounts app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class AccountsError(AppErrorCode):
    ROLE_HELD_OR_PENDING = "role_held_or_pending", 409
    GRANT_NOT_PENDING = "grant_not_pending", 409
    ROLE_NOT_GRANTED = "role_not_granted", 409
