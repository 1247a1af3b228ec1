"""Wire types shared by several domains."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from sync.limits import Id, Name, Phone, Text, Uid

__all__ = [
    "Actor",
    "ActorKind",
    "Date",
    "Email",
    "Id",
    "Name",
    "Phone",
    "Request",
    "Text",
    "Timestamp",
    "Uid",
    "Version",
]

ActorKind = Literal["office", "device", "customer", "system"]

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z", max_length=254)]
Timestamp = Annotated[str, msgspec.Meta(description="RFC 3339 UTC, e.g. 2026-05-01T14:30:00.000Z.")]
Date = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", description="A day, YYYY-MM-DD.")]
Version = Annotated[int, msgspec.Meta(ge=1)]


class Request(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A request body: a field the route does not know is refused, so a typo (`line_items`)
    never quietly becomes an empty order."""


class Actor(msgspec.Struct, frozen=True):
    kind: ActorKind
    id: str | None
