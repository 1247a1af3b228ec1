"""Every error leaves the server as application/problem+json, mapped here and nowhere else."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap

from server.errors import FieldError, FlintError, InvalidRequest, RateLimited, Unauthorized
from server.web.auth import holds_a_key, limited

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


class Problem(msgspec.Struct, rename="camel", omit_defaults=True):
    """An error, as RFC 9457 problem details with the project's stable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    current_version: int | None = None
    last_mutation_id: int | None = None


def example(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem document as the server writes it, for the OpenAPI document's examples."""
    doc = {"type": f"urn:flint:problem:{code}", "title": title, "status": status, "detail": detail, "code": code}
    return {**doc, **extra}


def _spec(description: str, value: dict[str, Any]) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description,
        generate_examples=False,
        examples=[Example(id=value["code"], summary=value["code"], value=value)],
    )


ERROR_RESPONSES: dict[int, ResponseSpec] = {
    400: _spec(
        "Malformed request (`invalid_request`, with `errors`)",
        example(
            400,
            "invalid_request",
            "Invalid request",
            "lineItems[0].quantity: Expected int, got str",
            errors=[{"field": "lineItems[0].quantity", "message": "Expected int, got str"}],
        ),
    ),
    401: _spec(
        "No or unknown credentials (`unauthorized`)",
        example(401, "unauthorized", "Unauthorized", "send `Authorization: Bearer <key>`"),
    ),
    403: _spec(
        "Credentials that do not reach this (`forbidden`)",
        example(403, "forbidden", "Forbidden", "a device token reaches only the sync endpoints"),
    ),
    404: _spec(
        "Not found (`not_found`)", example(404, "not_found", "Not found", "no order ord_5d2c8a1e9b7f4a3c6e0d1b2a")
    ),
    409: _spec(
        "Stale `version` (`version_conflict`, with `currentVersion`) or other conflict",
        example(
            409,
            "version_conflict",
            "Version conflict",
            "order ord_5d2c8a1e9b7f4a3c6e0d1b2a is at version 3, not 2",
            currentVersion=3,
        ),
    ),
    413: _spec(
        "Request too large (`too_large`)",
        example(413, "too_large", "Request too large", "Request Entity Too Large"),
    ),
    429: _spec(
        "Too many wrong keys from this address (`rate_limited`): wait `Retry-After` seconds",
        example(429, "rate_limited", "Too many requests", "too many wrong keys; try again later"),
    ),
    422: _spec(
        "A business rule (its `code` names it)",
        example(
            422,
            "idempotency_key_reused",
            "Request breaks a rule",
            "this Idempotency-Key was already used with a different request",
        ),
    ),
}
SYNC_RESPONSES = {
    **ERROR_RESPONSES,
    409: _spec(
        "Mutations out of order (`mutation_gap`, with `lastMutationId`)",
        example(
            409,
            "mutation_gap",
            "Conflict",
            "mutations must follow 41; push again from 42",
            lastMutationId=41,
        ),
    ),
    426: _spec(
        "Unsupported `schemaVersion` (`update_required`)",
        example(426, "update_required", "Update required", "this server speaks sync schema 1; update the app"),
    ),
}


# Only a change can conflict with another or break a business rule.
_WRITE_ONLY = frozenset({409, 422})


def document_errors(app: Litestar) -> None:
    """Every API route answers errors as problem+json; say so in the OpenAPI document."""
    for route in app.routes:
        if not route.path.startswith("/v1/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            documented = SYNC_RESPONSES if route.path.startswith("/v1/sync/") else ERROR_RESPONSES
            if "GET" in getattr(handler, "http_methods", ()):
                documented = {status: spec for status, spec in documented.items() if status not in _WRITE_ONLY}
            handler.responses = {**documented, **(handler.responses or {})}


MAX_DETAIL = 200  # a detail may quote what was sent; it never repeats more than this
# Control characters (C0, DEL, C1), line and paragraph separators, and the bidirectional
# overrides that could make a quoted id read as something else: never echoed as they are.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """What was sent, safe to repeat in a detail: unsafe characters written as escapes
    (`\\x00`), and at most `limit` characters."""
    text = _UNSAFE.sub(_escaped, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_document(err: FlintError) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": f"urn:flint:problem:{err.code}",
        "title": err.title,
        "status": err.status,
        "detail": clip(err.detail),
        "code": err.code,
    }
    if isinstance(err, InvalidRequest):
        doc["errors"] = [{"field": clip(e.field, 100), "message": clip(e.message)} for e in err.errors]
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


def _to_problem_exception(err: FlintError, headers: dict[str, str] | None = None) -> ProblemDetailsException:
    """`headers`: those Litestar's own error carries (`Allow` on a 405)."""
    doc = problem_document(err)
    headers = dict(headers or {})
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    if err.status == 429:
        headers.setdefault("Retry-After", "1")
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ProblemDetailsException(
        status_code=err.status,
        detail=doc.pop("detail"),
        title=doc.pop("title"),
        type_=doc.pop("type"),
        extra={k: v for k, v in doc.items() if k != "status"},
        headers=headers or None,
    )


def problem_response(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """One of Litestar's own errors as problem+json, for handlers that answer some requests
    otherwise (a page) and the rest as the API does."""
    return _to_problem_exception(from_http_exception(exc), exc.headers).to_response(request)


def _unrouted(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """No route or no such method. Under `/v1` (webhooks aside, which sign their requests) a
    missing or bad key is 401 first, whatever the path or method: a caller without a key
    learns nothing about which paths exist."""
    path = request.url.path
    err = from_http_exception(exc)
    waiting = limited(request)
    if waiting is not None:
        return _to_problem_exception(waiting).to_response(request)
    if path.startswith("/v1/") and not path.startswith("/v1/webhooks/") and not holds_a_key(request):
        unauthorized = Unauthorized("send `Authorization: Bearer <key>` with the office key or a device token")
        return _to_problem_exception(unauthorized).to_response(request)
    return _to_problem_exception(err, exc.headers).to_response(request)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    err = FlintError("the server failed to handle this request")
    return _to_problem_exception(err).to_response(request)


def problem_plugin() -> ProblemDetailsPlugin:
    mapping: dict[type[Exception], Any] = {
        FlintError: _to_problem_exception,
        HTTPException: lambda exc: _to_problem_exception(from_http_exception(exc), exc.headers),
    }
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=mapping))


def fallback_handlers() -> ExceptionHandlersMap:
    return {Exception: _unexpected, NotFoundException: _unrouted, MethodNotAllowedException: _unrouted}
