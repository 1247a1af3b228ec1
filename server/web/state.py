"""What the web floor needs from the running app, wired once by `server.app`: the settings, the
store, and a way to find whose device a token is (the technicians domain knows that; the web
layer only asks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection

from server.config import Settings
from server.store import Database, Tx


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device_id: str
    technician_id: str


# Finds the enrolled, unrevoked device whose token has this SHA-256 hex digest.
DeviceLookup = Callable[[Tx, str], DeviceIdentity | None]


@dataclass(frozen=True, slots=True)
class WebState:
    settings: Settings
    db: Database
    find_device: DeviceLookup


STATE_KEY = "web"


def web_state(connection: ASGIConnection[Any, Any, Any, Any]) -> WebState:
    state: WebState = connection.app.state[STATE_KEY]
    return state
