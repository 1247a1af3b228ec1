"""Every HTML page this server sends carries the pages' headers (contract §6, v3): a Content
Security Policy with no inline script, `nosniff`, no framing, `no-store`. One `before_send` hook
for every answer, so a page no router of ours renders (the built-in Twilio sandbox's phone, which
shows live pay links; the docs UI at `/schema`; an error page) is covered as well as ours.

A page that set its own policy keeps it (the customer pages' is stricter: no script at all).
Every answer, HTML or not, says `nosniff`, so nothing is ever read as a type it was not sent as.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import Message, Scope

from server.web.session import PAGE_HEADERS

NOSNIFF = ("X-Content-Type-Options", "nosniff")


async def page_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: the pages' headers on every HTML answer, unless it set its own."""
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    headers = MutableScopeHeaders.from_message(message)
    if headers.get(NOSNIFF[0]) is None:
        headers[NOSNIFF[0]] = NOSNIFF[1]
    if not (headers.get("content-type") or "").startswith("text/html"):
        return
    for name, value in PAGE_HEADERS.items():
        if headers.get(name) is None:
            headers[name] = value
