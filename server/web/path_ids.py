"""An id or token in a path longer than 64 characters is 400 (contract §1, v3), for every route
at once: no id or token this server makes is longer, so such a path is malformed, not missing.

`refuse_long_ids` runs once the route is found (its path parameters known) and before its
guards, and raises `IdTooLong`; `id_too_long` answers it as the caller reads answers, like a 413:
problem+json for the API, a page for a customer's link or the office's pages. Under `/v1` a
caller without a key hears 401 first (the guard's), as for any other path."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

from server.errors import FieldError, InvalidRequest
from server.web.auth import BEARER_PATHS, holds_a_key
from server.web.customer_pages import is_customer_path, page_context
from server.web.problems import encode_problem
from server.web.session import PAGE_HEADERS
from server.web.state import web_state
from sync.limits import MAX_ID

PROBLEM = "application/problem+json"


class IdTooLong(InvalidRequest):
    def __init__(self, name: str) -> None:
        message = f"is longer than {MAX_ID} characters: no id or token is"
        super().__init__(f"{name}: {message}", [FieldError(name, message)])


def refuse_long_ids(app: ASGIApp) -> ASGIApp:
    """Middleware: a path parameter past `MAX_ID` characters is `IdTooLong`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            for name, value in (scope.get("path_params") or {}).items():
                if isinstance(value, str) and len(value) > MAX_ID:
                    if BEARER_PATHS.match(scope["path"]) and not _has_key(scope):
                        break  # the guard answers 401 first
                    raise IdTooLong(_camel(name))
        await app(scope, receive, send)

    return middleware


def _has_key(scope: Scope) -> bool:
    return holds_a_key(Request(scope))


def _camel(name: str) -> str:
    """`job_id` -> `jobId`, as the API names things."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def id_too_long(request: Request[Any, Any, Any], exc: IdTooLong) -> Response[Any]:
    path = request.url.path
    settings = web_state(request).settings
    if is_customer_path(path):
        context = {
            **page_context(settings),
            "heading": "This link is not valid",
            "message": "The address is longer than any link we send.",
            "hint": "Check the link in your text message.",
        }
        return Template(template_name="problem.html", context=context, status_code=400)
    if path.startswith("/dispatch"):
        context = {"business": settings.business_name, "message": "That address is not one of this site's pages."}
        return Template(template_name="dispatch/missing.html", context=context, status_code=400, headers=PAGE_HEADERS)
    return Response(encode_problem(exc), status_code=400, media_type=PROBLEM)
