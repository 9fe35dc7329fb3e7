"""The randomization app's refusals, each with its own API ``code`` and HTTP status
(``ecrf.core.errors.AppErrorCode``), instead of the generic ``state_conflict``."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class RandomizationError(AppErrorCode):
    STRATUM_HAS_LIST = "stratum_has_allocation_list", 409
    ALREADY_RANDOMIZED = "already_randomized", 409
    SEPSIS_WINDOW_PASSED = "sepsis_window_passed", 409
    NO_ALLOCATION_LIST = "no_allocation_list", 409
    ALLOCATION_LIST_USED_UP = "allocation_list_used_up", 409
    NOT_RANDOMIZED = "not_randomized", 409
    STUDY_NOT_LOCKED = "study_not_locked", 409
    STUDY_ALREADY_UNBLINDED = "study_already_unblinded", 409
