from __future__ import annotations

import msgspec

from server.wire import Name, Phone, Request, Timestamp


class CreateTechnician(Request):
    name: Name
    phone: Phone | None = None


class Technician(msgspec.Struct, rename="camel"):
    id: str
    name: str
    phone: str | None
    last_sync_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class EnrolDevice(Request):
    label: Name | None = None


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
    token: str | None
    created_at: Timestamp
