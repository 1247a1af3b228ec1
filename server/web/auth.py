"""Bearer auth: the office key for the office API, device tokens for the sync endpoints only."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from server.config import Settings
from server.errors import Forbidden, Unauthorized
from server.ids import hash_token
from server.web.state import web_state


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


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send `Authorization: Bearer <key>`")
    return token.strip()


async def _device_caller(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Caller | None:
    digest, state = hash_token(token), web_state(connection)
    found = await state.db.read(lambda tx: state.find_device(tx, digest))
    if found is None:
        return None
    return Caller("device", device_id=found.device_id, technician_id=found.technician_id)


def office_key_matches(settings: Settings, key: str) -> bool:
    """In constant time, so how long a wrong guess takes says nothing about the key."""
    return hmac.compare_digest(key.encode(), settings.api_key.encode())


def _is_office_key(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> bool:
    return office_key_matches(web_state(connection).settings, token)


def holds_a_key(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request carries the office key or a live device token, answered without
    awaiting (for requests that reach no route, so no guard ran)."""
    try:
        token = bearer_token(connection)
    except Unauthorized:
        return False
    if _is_office_key(connection, token):
        return True
    digest, state = hash_token(token), web_state(connection)
    return state.db.read_blocking(lambda tx: state.find_device(tx, digest)) is not None


async def office_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    token = bearer_token(connection)
    if _is_office_key(connection, token):
        connection.state.caller = OFFICE
        return
    if await _device_caller(connection, token) is not None:
        raise Forbidden("a device token reaches only the sync endpoints")
    raise Unauthorized("the key is not valid")


async def device_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    token = bearer_token(connection)
    caller = await _device_caller(connection, token)
    if caller is None:
        if _is_office_key(connection, token):
            raise Forbidden("the sync endpoints take a device token")
        raise Unauthorized("the device token is not valid or was revoked")
    connection.state.caller = caller
