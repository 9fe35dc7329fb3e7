"""The queries app's refusals, each with its own API ``code`` and HTTP status."""

from __future__ import annotations

from ecrf.core.errors import AppErrorCode


class QueryError(AppErrorCode):
    TEXT_REQUIRED = "query_text_required", 400
    TEXT_TOO_LONG = "query_text_too_long", 400
    UNKNOWN_FIELD = "query_unknown_field", 400
    ALREADY_RELEASED = "query_already_released", 409
    NOT_RELEASED = "query_not_released", 409
    NOT_OPEN = "query_not_open", 409
    RESOLVED = "query_already_resolved", 409
    NOT_REOPENABLE = "query_not_reopenable", 409
    DRAFT_NOT_CLOSABLE = "query_draft_not_closable", 409
    RUN_IN_PROGRESS = "check_run_in_progress", 409
    NOTHING_SELECTED = "query_nothing_selected", 400
    BAD_ASSIGNEE = "query_bad_assignee", 400
