"""Wire types shared by several domains."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

ActorKind = Literal["office", "device", "customer", "system"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +15551234567.")]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Uid = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="A client-made id (UUID).")]
Timestamp = Annotated[str, msgspec.Meta(description="RFC 3339 UTC, e.g. 2026-05-01T14:30:00.000Z.")]
Version = Annotated[int, msgspec.Meta(ge=1)]


class Actor(msgspec.Struct, frozen=True):
    kind: ActorKind
    id: str | None
