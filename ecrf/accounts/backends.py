from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class LockoutModelBackend(ModelBackend):
    """Refuses a locked-out account even with the right password (lockout after failed logins)."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_locked_out", False)
