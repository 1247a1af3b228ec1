"""Bearer auth: the office key for the office API, device tokens for the sync endpoints only."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from server.errors import Forbidden, Unauthorized
from server.ids import hash_token
from server.technicians import store as technicians_store

if TYPE_CHECKING:
    from server.runtime import Runtime


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


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send `Authorization: Bearer <key>`")
    return token.strip()


async def _device_caller(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Caller | None:
    digest = hash_token(token)
    row = await runtime_of(connection).db.read(lambda tx: technicians_store.active_device_by_token(tx, digest))
    if row is None:
        return None
    return Caller("device", device_id=row["id"], technician_id=row["technician_id"])


def _is_office_key(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> bool:
    return hmac.compare_digest(token.encode(), runtime_of(connection).settings.api_key.encode())


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
