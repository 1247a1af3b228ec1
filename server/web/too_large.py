"""Request bodies over 1 MiB are 413 (contract §1), answered as the caller reads answers: a
page for a page's form (the pay and invoice forms, the login form, the office's and the
sandbox phone's forms), problem+json for the API and the webhooks.

Litestar stops reading a body past `request_max_body_size`; `refuse_announced` also refuses
one whose `Content-Length` says it is too large before any handler runs, so a route that would
not read a body of a type it does not expect answers the same."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

from server.web.customer_pages import is_customer_path, too_large_page
from server.web.problems import problem_response
from server.web.session import HOME, PAGE_HEADERS, safe_next
from server.web.state import web_state

MAX_BODY = 1024 * 1024
OFFICE_PAGES = re.compile(r"^/(login|logout|dispatch|sandbox/phone)(/|$)")


def refuse_announced(app: ASGIApp) -> ASGIApp:
    """Middleware: a `Content-Length` past the limit is refused before the route runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY:
                    raise RequestEntityTooLarge
        await app(scope, receive, send)

    return middleware


def too_large(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The handler for every 413."""
    raw = request.scope.get("raw_path")  # the whole path, also under a mounted app
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    if is_customer_path(path):
        return too_large_page(web_state(request).settings)
    if OFFICE_PAGES.match(path):
        came_from = urlsplit(request.headers.get("referer", ""))
        back = safe_next(came_from.path) if came_from.netloc == request.url.netloc else HOME
        context = {"back": back, "business": web_state(request).settings.business_name}
        return Template(template_name="too_large.html", context=context, status_code=413, headers=PAGE_HEADERS)
    return problem_response(request, exc)
