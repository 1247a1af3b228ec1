"""What the web floor needs from the running app, wired once by `server.app`: the settings, the
store, a way to find whose device a token is (the technicians domain knows that; the web
layer only asks), and the failed attempts the pages limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection

from server.config import Settings
from server.store import Database, Tx
from server.web.attempts import FailedAttempts, card_attempts, key_attempts


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device_id: str
    technician_id: str


# Finds the enrolled, unrevoked device whose token has this SHA-256 hex digest.
DeviceLookup = Callable[[Tx, str], DeviceIdentity | None]


def _nothing(_: str) -> None:
    return None


def _any(_: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class WebState:
    settings: Settings
    db: Database
    find_device: DeviceLookup
    may_be_device: Callable[[str], bool] = _any  # a bearer key worth looking up as a device token
    card_attempts: FailedAttempts = field(default_factory=card_attempts)  # per link or invoice id
    key_attempts: FailedAttempts = field(default_factory=key_attempts)  # wrong office keys, per client address
    session_ended: Callable[[str], None] = _nothing  # a browser session logged out: end what it holds open


STATE_KEY = "web"


def web_state(connection: ASGIConnection[Any, Any, Any, Any]) -> WebState:
    state: WebState = connection.app.state[STATE_KEY]
    return state
