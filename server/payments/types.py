from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, PositiveMoney
from server.wire import Id, Timestamp

PaymentStatus = Literal["captured", "declined"]
PaymentMethod = Literal["card", "cash", "check"]
OfflineMethod = Literal["cash", "check"]
PaymentSource = Literal["pay_link", "device", "office"]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class Card(msgspec.Struct, frozen=True):
    brand: str
    last4: str


class RecordPayment(msgspec.Struct, rename="camel"):
    order_id: Id
    amount_money: PositiveMoney
    method: OfflineMethod
    reference: Reference | None = None


class Payment(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str
    order_id: str
    amount_money: Money
    status: PaymentStatus
    method: PaymentMethod
    source: PaymentSource
    refunded_money: Money
    created_at: Timestamp
    card: Card | None = None
    payment_link_id: str | None = None
    reference: str | None = None
    decline_code: str | None = None


class CreateRefund(msgspec.Struct, rename="camel"):
    payment_id: Id
    amount_money: PositiveMoney
    reason: Reason


class Refund(msgspec.Struct, rename="camel"):
    id: str
    payment_id: str
    order_id: str
    amount_money: Money
    reason: str
    status: Literal["pending", "completed", "failed"]
    created_at: Timestamp
