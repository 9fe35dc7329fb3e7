"""The project's one exception type for refused operations (ARCHITECTURE.md "API (v1)": errors).

Services raise ``DomainError`` with a code; the DRF exception handler and the page views turn
it into the JSON error format or a message next to the fields. Messages tell the user what to fix
and never mention anything that is blinded.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    INVALID = "invalid"  # 400: bad input
    REASON_REQUIRED = "reason_required"  # 400: a change after submission needs a reason
    UNKNOWN_FIELD = "unknown_field"  # 400
    NOT_AUTHENTICATED = "not_authenticated"  # 401
    FORBIDDEN = "forbidden"  # 403: your role may not do this
    REAUTH_FAILED = "reauthentication_failed"  # 403: wrong password at re-authentication
    NOT_FOUND = "not_found"  # 404: missing, or not visible to you (the same answer for both)
    STALE_VERSION = "stale_version"  # 409
    LOCKED = "locked"  # 409: frozen or locked scope
    STATE_CONFLICT = "state_conflict"  # 409: the record's state forbids the change
    DELETE_REFUSED = "delete_refused"  # 409: clinical data is never deleted


STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.INVALID: 400,
    ErrorCode.REASON_REQUIRED: 400,
    ErrorCode.UNKNOWN_FIELD: 400,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.REAUTH_FAILED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.STALE_VERSION: 409,
    ErrorCode.LOCKED: 409,
    ErrorCode.STATE_CONFLICT: 409,
    ErrorCode.DELETE_REFUSED: 409,
}


class AppErrorCode(str, Enum):
    """Base of an app's own error codes: each member is ``("api_code", http_status)``.

    Its value is the ``code`` of the JSON error format and it carries its HTTP status, so an app
    names each of its refusals precisely instead of the generic ``ErrorCode.STATE_CONFLICT``.
    """

    http_status: int

    def __new__(cls, code: str, http_status: int) -> AppErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.http_status = http_status
        return member


class DomainError(Exception):
    """A refused operation. Nothing has been written when this propagates out of a service."""

    def __init__(
        self,
        code: ErrorCode | AppErrorCode,
        message: str,
        *,
        fields: dict[str, list[str] | str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.fields = {k: ([str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]) for k, v in (fields or {}).items()}

    @property
    def status(self) -> int:
        if isinstance(self.code, AppErrorCode):
            return self.code.http_status
        return STATUS_BY_CODE[self.code]

    def as_dict(self) -> dict:
        return {"error": {"code": self.code.value, "message": self.message, "fields": self.fields}}


def invalid(message: str, **fields: str | list[str]) -> DomainError:
    return DomainError(ErrorCode.INVALID, message, fields=fields)


def not_found(what: str = "record") -> DomainError:
    # Same message whether the row is missing or outside the user's scope (Zulip's access_*).
    return DomainError(ErrorCode.NOT_FOUND, f"No such {what}, or it is not visible to you.")


def forbidden(message: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message)
