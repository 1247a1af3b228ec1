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


class CardOnFile(msgspec.Struct, rename="camel"):
    """The customer's saved card as a person reads it (contract §10); never the number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    saved_at: Timestamp


class Customer(msgspec.Struct, rename="camel"):
    """`cardOnFile`: the card saved on a card page, which autopay plans charge (null: none)."""

    id: str
    name: str
    phone: str
    email: str | None
    kind: CustomerKind
    created_at: Timestamp
    updated_at: Timestamp
    card_on_file: CardOnFile | None = None
