from __future__ import annotations

from typing import Annotated

import msgspec

from server.wire import Name, Phone, Timestamp

Label = Annotated[str, msgspec.Meta(max_length=100)]


class CreateTechnician(msgspec.Struct, rename="camel"):
    name: Name
    phone: Phone | None = None


class Technician(msgspec.Struct, rename="camel"):
    id: str
    name: str
    phone: str | None
    last_sync_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class EnrolDevice(msgspec.Struct, rename="camel"):
    label: Label | None = None


class Device(msgspec.Struct, rename="camel"):
    id: str
    technician_id: str
    label: str | None
    created_at: Timestamp
    revoked_at: Timestamp | None


class EnrolledDevice(msgspec.Struct, rename="camel"):
    """The one response that carries the token; it is stored only as a hash."""

    id: str
    technician_id: str
    label: str | None
    token: str
    created_at: Timestamp
