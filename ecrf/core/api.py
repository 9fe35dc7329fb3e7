"""Shared DRF plumbing: the error format of ARCHITECTURE.md, pagination, strict serializers, the JSON
parser's limits, bounded number filters, and the JSON error pages of the /api/ paths."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    ValidationError as DjangoValidationError,
)
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django_filters import filters as django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from ecrf.core.errors import DomainError

# A request body nested deeper than this is no form data of this API (a form is one level, a
# list of items two or three): refused before it can exhaust the interpreter's stack.
MAX_JSON_DEPTH = 32
# Database integers are signed 64-bit: a filter value outside this range matches nothing and
# would overflow the database driver, so it is refused as bad input naming the parameter.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


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


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is larger than the {limit // 1024} KB this API accepts; send less data per request."


def _depth(value: Any) -> int:
    # Iterative, so that measuring a deep document cannot itself exhaust the stack.
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                return level
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the project's limits: the body size (DATA_UPLOAD_MAX_MEMORY_SIZE,
    413) and the nesting depth (MAX_JSON_DEPTH, 400), each as a JSON error, never a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if limit is not None and length and str(length).isdigit() and int(length) > limit:
            raise RequestTooLarge(_too_large_message())
        raw = stream.read(limit + 1) if (limit is not None and stream is not None) else (stream.read() if stream else b"")
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(_too_large_message())
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding)) if raw else None
        except RecursionError:
            raise exceptions.ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _depth(data) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.")
        return data


class BoundedFilterBackend(DjangoFilterBackend):
    """django-filter with every number filter bounded to the database's 64-bit integers, so an
    out-of-range value is a 400 naming the parameter instead of an overflow in the driver."""

    def get_filterset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        for name, flt in filterset.filters.items():
            if isinstance(flt, django_filters.NumberFilter) and name in filterset.form.fields:
                field = filterset.form.fields[name]
                message = f"{name} must be between {INT64_MIN} and {INT64_MAX}."
                field.validators = [*field.validators, MinValueValidator(INT64_MIN, message=message),
                                    MaxValueValidator(INT64_MAX, message=message)]
        return filterset


def error_response(code: str, message: str, http_status: int, fields: dict | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error is JSON: ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, DomainError):
        return error_response(exc.code.value, exc.message, exc.status, exc.fields)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return error_response("invalid", "The data is not valid; see the field errors.", 400, fields)
    if isinstance(exc, RecursionError):
        return error_response("invalid", f"The request body could not be parsed: JSON nested more than {MAX_JSON_DEPTH} levels deep.", 400)
    if isinstance(exc, RequestDataTooBig):
        return error_response("request_too_large", _too_large_message(), 413)
    if isinstance(exc, TooManyFieldsSent):
        return error_response("invalid", "The request has too many fields.", 400)
    if isinstance(exc, OverflowError | DataError):
        # A number in the URL beyond the database's integers (SQLite's driver overflows,
        # PostgreSQL refuses it as out of range): bad input, and nothing was written.
        return error_response("invalid", "A value in the request is out of range.", 400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such record, or it is not visible to you.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    # deferred import: rest_framework.views reads REST_FRAMEWORK's DEFAULT_PARSER_CLASSES
    # (ecrf.core.api.JSONParser) when it is first imported; imported at this module's top, it
    # would import this module half-initialized whenever DRF's settings load this module first
    # (its pagination system check does, in a hash-dependent order) and the worker fails to start.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return error_response("invalid", "The data is not valid; see the field errors.", status.HTTP_400_BAD_REQUEST, fields)
    if isinstance(exc, exceptions.ParseError):
        return error_response("invalid", f"The request body could not be parsed: {exc.detail}", 400)
    code = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            406: "not_acceptable", 413: "request_too_large", 415: "unsupported_media_type", 429: "throttled"}.get(
        response.status_code, "error"
    )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    message = str(detail) if not isinstance(detail, dict | list) else "The request was refused."
    headers = {k: response[k] for k in ("WWW-Authenticate", "Allow", "Retry-After") if response.has_header(k)}
    return Response({"error": {"code": code, "message": message, "fields": {}}}, status=response.status_code, headers=headers)


class ServiceValidatedRangesMixin:
    """For a form serializer whose writes go through the form service: keep the model's hard
    limits on the fields (``min_value``/``max_value``, so the schema shows them) but leave the
    check to the service, which runs the form's own rules first (specific messages such as
    "FiO2 is a fraction, not a percentage") and then the same limits in ``full_clean``."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()  # type: ignore[misc]
        for field in fields.values():
            if getattr(field, "read_only", False):
                continue
            field.validators = [v for v in field.validators
                                if not isinstance(v, MinValueValidator | MaxValueValidator)]
        return fields


class StrictSerializerMixin:
    """Refuse unknown fields instead of silently ignoring them (ARCHITECTURE.md "Errors")."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        allowed = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field; it is not part of this form."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


# --- Django's error views: JSON for the API, the HTML pages elsewhere -------------------------
# Errors raised outside a DRF view (an unknown /api/ URL, a body too large for a middleware to
# read, a crash) reach Django's handlers, not the DRF exception handler: for /api/ paths they
# answer in the same JSON error format (ARCHITECTURE.md "API": every error is JSON).


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json_error(code: str, message: str, http_status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=http_status)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return _json_error("request_too_large", _too_large_message(), 413)
        return _json_error("invalid", "The request could not be read.", 400)
    if isinstance(exception, RequestDataTooBig):
        response = defaults.bad_request(request, exception)
        response.status_code = 413
        return response
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json_error("forbidden", "You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json_error("not_found", "No such resource, or it is not visible to you.", 404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        # No detail of the failure: it may name data the caller may not see (blinding).
        return _json_error("server_error", "The server could not complete the request; nothing was changed.", 500)
    return defaults.server_error(request)
