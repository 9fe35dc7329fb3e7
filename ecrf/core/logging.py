"""Log filters.

A refused request (403) is an expected answer, not a fault: Django logs ``PermissionDenied`` with
its traceback, which buries the real errors and tells an operator nothing the one line does not.
"""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """Keep the "Forbidden (Permission denied)" line of a 403, drop its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
