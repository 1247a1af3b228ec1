"""CSRF for the pages of an app mounted under this one (the built-in Twilio sandbox's phone and
its reply form, contract §6 v3). Litestar's CSRF middleware cannot read the form of a mounted
app (it reads the body through the route handler, which a mount does not have), so the mount
is left out of it and `csrf_protected` does the same job around the mounted app: the same
cookie, the same signed-token format (`litestar.middleware.csrf`), the token handed to the
mounted page through the request's state as the middleware would (`csrf_input` in a template),
and every form post refused (403) unless its `_csrf_token` matches the cookie.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware.csrf import generate_csrf_hash, generate_csrf_token
from litestar.types import ASGIApp, HTTPRequestEvent, Message, Receive, ReceiveMessage, Scope, Send
from litestar.utils.scope.state import ScopeState

from server.web.too_large import MAX_BODY

FORM_FIELD = "_csrf_token"
_RANDOM = 64  # hex characters of a token's random part; its HMAC follows


def _random_part(token: str, secret: str) -> str | None:
    random, signature = token[:_RANDOM], token[_RANDOM:]
    if len(random) < _RANDOM or not signature:
        return None
    return random if hmac.compare_digest(signature, generate_csrf_hash(token=random, secret=secret)) else None


def tokens_match(sent: str | None, cookie: str | None, secret: str) -> bool:
    if not sent or not cookie:
        return False
    sent_random, cookie_random = _random_part(sent, secret), _random_part(cookie, secret)
    return sent_random is not None and cookie_random is not None and hmac.compare_digest(sent_random, cookie_random)


async def _read_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise PermissionDeniedException("the form was not sent")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestEntityTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then whatever comes next (a disconnect)."""
    given = False

    async def again() -> ReceiveMessage:
        nonlocal given
        if given:
            return await receive()
        given = True
        return HTTPRequestEvent(type="http.request", body=body, more_body=False)

    return again


def csrf_protected(app: ASGIApp, config: CSRFConfig) -> ASGIApp:
    """`app` (mounted) with its forms protected as every other page's are."""

    async def protected(scope: Scope, receive: Receive, send: Send) -> None:
        cookie = ASGIConnection[Any, Any, Any, Any](scope).cookies.get(config.cookie_name)
        if scope.get("method") in config.safe_methods:
            token = cookie if cookie and _random_part(cookie, config.secret) else None
            ScopeState.from_scope(scope).csrf_token = token or generate_csrf_token(config.secret)
            await app(scope, receive, send if token else _setting_cookie(send, scope, config))
            return
        body = await _read_body(receive)
        sent = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FORM_FIELD, [None])[0]
        if not tokens_match(sent, cookie, config.secret):
            raise PermissionDeniedException("CSRF token verification failed")
        await app(scope, _replaying(body, receive), send)

    return protected


def _setting_cookie(send: Send, scope: Scope, config: CSRFConfig) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            token = ScopeState.from_scope(scope).csrf_token
            cookie = Cookie(
                key=config.cookie_name,
                value=str(token),
                path=config.cookie_path,
                secure=config.cookie_secure,
                httponly=config.cookie_httponly,
                samesite=config.cookie_samesite,
                domain=config.cookie_domain,
            )
            MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
        await send(message)

    return sending
