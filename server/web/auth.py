"""Bearer auth: the office key for the office API, device tokens for the sync endpoints only.

Whose key a request carries is worked out once, before routing, by the `authenticate`
middleware, for every path where a bearer key means something (`/v1` but its signed webhooks,
the built-in Twilio sandbox but its Basic-auth Messages API). So a path no route knows is
answered 401 or 404 from what was already found, with nothing blocking the event loop, and
every wrong key counts against its client's address in one place (contract §1: after 10
failures within 10 minutes, 429 until the window passes, even for the right key). The guards
only read what the middleware found.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from server.config import Settings
from server.errors import Forbidden, RateLimited, Unauthorized
from server.ids import hash_token
from server.web.attempts import client_key
from server.web.state import STATE_KEY, WebState


@dataclass(frozen=True, slots=True)
class Caller:
    kind: Literal["office", "device"]
    device_id: str | None = None
    technician_id: str | None = None

    @property
    def scope(self) -> str:
        """Whose idempotency keys these are."""
        return "office" if self.kind == "office" else f"device:{self.device_id}"

    @property
    def actor_id(self) -> str:
        return self.device_id or "office"


OFFICE = Caller("office")
INVALID = "invalid"  # a bearer key that is neither the office key nor a live device token
_FOUND = "flint_bearer"  # where `identify` leaves what it found, in the request's state
_LIMITED = "flint_bearer_limited"
BEARER_PATHS = re.compile(r"^/(v1/(?!webhooks/)|sandbox(/(?!twilio/)|$))")
ASK_FOR_KEY = "send `Authorization: Bearer <key>`"


def client_address(scope: Scope) -> str:
    """The client's address, as limits count it: the connection's peer, or what a proxy named
    in `FLINT_TRUSTED_PROXIES` said (uvicorn rewrites the peer only for those)."""
    client = scope.get("client")
    return client_key(client[0] if client else None)


def _full_path(scope: Scope) -> str:
    """The path as sent: under a mounted app (the sandbox) routing leaves only its inner part
    in `path`."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else scope["path"]


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def office_key_matches(settings: Settings, key: str) -> bool:
    """In constant time, so how long a wrong guess takes says nothing about the key."""
    return hmac.compare_digest(key.encode(), settings.api_key.encode())


async def _identify(state: WebState, token: str) -> Caller | None:
    if office_key_matches(state.settings, token):
        return OFFICE
    if not state.may_be_device(token):
        return None  # a guess of no token's shape: no read
    digest = hash_token(token)
    found = await state.db.read(lambda tx: state.find_device(tx, digest))
    if found is None:
        return None
    return Caller("device", device_id=found.device_id, technician_id=found.technician_id)


async def identify(scope: Scope) -> None:
    """Find whose bearer key the request carries, off the event loop's thread (a device token
    is looked up on a reader), and count a wrong one; once per request. Raises `RateLimited`
    (429 with `Retry-After`) while the client's address is waiting, whatever key it sends."""
    if _FOUND in scope["state"] or not BEARER_PATHS.match(_full_path(scope)):
        return
    token = _bearer(list(scope["headers"]))
    if token is None:
        scope["state"][_FOUND] = None
        return
    state: WebState = scope["litestar_app"].state[STATE_KEY]
    client = client_address(scope)
    state.key_attempts.allow(client)
    caller = await _identify(state, token)
    if caller is None:
        state.key_attempts.failed(client)
    scope["state"][_FOUND] = caller or INVALID


def authenticate(app: ASGIApp) -> ASGIApp:
    """Middleware: `identify` before any route's guard runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await identify(scope)
        await app(scope, receive, send)

    return middleware


async def identify_unrouted(exc: Exception, scope: Scope) -> None:
    """`after_exception` hook: a request no route takes never ran the middleware, so its key is
    found here, before the (synchronous) exception handler answers 401, 404 or 405 from it."""
    if scope["type"] != ScopeType.HTTP or not isinstance(exc, NotFoundException | MethodNotAllowedException):
        return
    try:
        await identify(scope)
    except RateLimited as err:
        scope["state"][_LIMITED] = err


def limited(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimited | None:
    """The 429 `identify_unrouted` met, for the exception handler to answer with."""
    value: RateLimited | None = connection.scope.get("state", {}).get(_LIMITED)
    return value


def found(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | Literal["invalid"] | None:
    """What `authenticate` found: a caller, `INVALID`, or None when no bearer key was sent."""
    value: Caller | Literal["invalid"] | None = connection.scope.get("state", {}).get(_FOUND)
    return value


def holds_a_key(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request carries the office key or a live device token (for requests that
    reach no route, so no guard ran)."""
    return isinstance(found(connection), Caller)


def _unauthorized(connection: ASGIConnection[Any, Any, Any, Any], invalid: str) -> Unauthorized:
    return Unauthorized(invalid if found(connection) == INVALID else ASK_FOR_KEY)


async def office_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    caller = found(connection)
    if caller is OFFICE:
        connection.state.caller = OFFICE
        return
    if isinstance(caller, Caller):
        raise Forbidden("a device token reaches only the sync endpoints")
    raise _unauthorized(connection, "the key is not valid")


async def device_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    caller = found(connection)
    if caller is OFFICE:
        raise Forbidden("the sync endpoints take a device token")
    if not isinstance(caller, Caller):
        raise _unauthorized(connection, "the device token is not valid or was revoked")
    connection.state.caller = caller


def office_by_bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return found(connection) is OFFICE
