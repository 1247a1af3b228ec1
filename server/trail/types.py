from __future__ import annotations

from typing import Any

import msgspec

from server.wire import Actor, Timestamp


class TrailEvent(msgspec.Struct, rename="camel", omit_defaults=True):
    seq: int
    at: Timestamp
    type: str
    actor: Actor
    data: dict[str, Any]
    client_at: Timestamp | None = None


class Trail(msgspec.Struct, rename="camel"):
    job_id: str
    events: list[TrailEvent]
