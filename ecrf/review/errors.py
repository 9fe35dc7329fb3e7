"""The review app's refusals, each with its own API ``code`` and HTTP status."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class ReviewError(AppErrorCode):
    # 409: the study-lock gate found blockers (the response lists them); nothing was locked.
    LOCK_GATE_BLOCKED = "lock_gate_blocked", 409
    # 409: the same freeze or lock is already active on that target.
    ALREADY_SCOPED = "already_scoped", 409
    # 409: the scope was already released.
    ALREADY_RELEASED = "already_released", 409
    # 409: the form is a draft or retracted: there is nothing submitted to verify or sign.
    NOT_REVIEWABLE = "not_reviewable", 409
    # 409: the casebook holds drafts: submit or retract them before signing.
    DRAFTS_PRESENT = "drafts_present", 409
