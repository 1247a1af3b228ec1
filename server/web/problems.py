"""Every error leaves the server as application/problem+json, mapped here and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap

from server.errors import FieldError, FlintError, InvalidRequest

log = logging.getLogger("flint")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("invalid_request", "Invalid request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too_large", "Request too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}

_encoder = msgspec.json.Encoder()


def problem_document(err: FlintError) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": f"urn:flint:problem:{err.code}",
        "title": err.title,
        "status": err.status,
        "detail": err.detail,
        "code": err.code,
    }
    if isinstance(err, InvalidRequest):
        doc["errors"] = [{"field": e.field, "message": e.message} for e in err.errors]
    doc.update(err.extra)
    return doc


def encode_problem(err: FlintError) -> bytes:
    return _encoder.encode(problem_document(err))


def from_http_exception(exc: HTTPException) -> FlintError:
    """Litestar's own errors (routing, query parameters, body size) in the project's terms."""
    status = exc.status_code
    code, title = _HTTP_CODES.get(status, ("http_error", "HTTP error"))
    if isinstance(exc, ValidationException) or status == 400:
        errors = _field_errors(exc.extra)
        detail = errors[0].message if len(errors) == 1 else "the request is not valid"
        if exc.detail and not errors:
            detail = exc.detail
        return InvalidRequest(detail, errors)
    err = FlintError(exc.detail or title, code=code)
    err.status, err.title = status, title
    return err


def _field_errors(extra: object) -> list[FieldError]:
    errors: list[FieldError] = []
    if isinstance(extra, list):
        for item in extra:
            if not isinstance(item, dict):
                continue
            key = str(item.get("key", ""))
            message = str(item.get("message", "is not valid"))
            if key == "data" and message == "'data'":
                errors.append(FieldError("body", "a JSON request body is required"))
            else:
                errors.append(FieldError(key or "request", message))
    return errors


def _to_problem_exception(err: FlintError) -> ProblemDetailsException:
    doc = problem_document(err)
    headers = {"Retry-After": "1"} if err.status == 429 else None
    return ProblemDetailsException(
        status_code=err.status,
        detail=doc.pop("detail"),
        title=doc.pop("title"),
        type_=doc.pop("type"),
        extra={k: v for k, v in doc.items() if k != "status"},
        headers=headers,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    err = FlintError("the server failed to handle this request")
    return _to_problem_exception(err).to_response(request)


def problem_plugin() -> ProblemDetailsPlugin:
    mapping: dict[type[Exception], Any] = {
        FlintError: _to_problem_exception,
        HTTPException: lambda exc: _to_problem_exception(from_http_exception(exc)),
    }
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=mapping))


def fallback_handlers() -> ExceptionHandlersMap:
    return {Exception: _unexpected}
