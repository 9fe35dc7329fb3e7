"""Shared DRF plumbing: the error format of DESIGN.md, pagination, strict serializers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ecrf.core.errors import DomainError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            elif isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {}


def error_response(code: str, message: str, http_status: int, fields: dict | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error is JSON: ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, DomainError):
        return error_response(exc.code.value, exc.message, exc.status, exc.fields)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return error_response("invalid", "The data is not valid; see the field errors.", 400, fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such record, or it is not visible to you.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return error_response("invalid", "The data is not valid; see the field errors.", status.HTTP_400_BAD_REQUEST, fields)
    if isinstance(exc, exceptions.ParseError):
        return error_response("invalid", f"The request body could not be parsed: {exc.detail}", 400)
    code = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        response.status_code, "error"
    )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    message = str(detail) if not isinstance(detail, dict | list) else "The request was refused."
    headers = {k: response[k] for k in ("WWW-Authenticate", "Allow", "Retry-After") if response.has_header(k)}
    return Response({"error": {"code": code, "message": message, "fields": {}}}, status=response.status_code, headers=headers)


class StrictSerializerMixin:
    """Refuse unknown fields instead of silently ignoring them (DESIGN.md "Errors")."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        allowed = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field; it is not part of this form."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]
