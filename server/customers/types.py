from __future__ import annotations

from typing import Literal

import msgspec

from server.wire import Email, Name, Phone, Request, Timestamp

CustomerKind = Literal["residential", "commercial"]


class CreateCustomer(Request):
    name: Name
    phone: Phone
    kind: CustomerKind
    email: Email | None = None


class Customer(msgspec.Struct, rename="camel"):
    id: str
    name: str
    phone: str
    email: str | None
    kind: CustomerKind
    created_at: Timestamp
    updated_at: Timestamp
