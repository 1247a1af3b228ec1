from __future__ import annotations

from typing import Literal

import msgspec

from server.money import Money, PositiveMoneyIn
from server.wire import Id, Request, Text, Timestamp

PaymentStatus = Literal["captured", "declined"]
PaymentMethod = Literal["card", "cash", "check"]
OfflineMethod = Literal["cash", "check"]
PaymentSource = Literal["pay_link", "invoice", "device", "office", "estimate", "autopay"]


class Card(msgspec.Struct, frozen=True):
    brand: str
    last4: str


class RecordPayment(Request):
    """Cash or a check, for an order or for a job (then applied to its orders, oldest first)."""

    amount_money: PositiveMoneyIn
    method: OfflineMethod
    order_id: Id | None = None
    job_id: Id | None = None
    reference: Text | None = None


class Payment(msgspec.Struct, rename="camel", omit_defaults=True):
    """A charge's part on one order. A job payment spread over several orders lists as one
    payment per order sharing one `chargeId`."""

    id: str
    order_id: str
    job_id: str | None
    charge_id: str | None
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


class CreateRefund(Request):
    payment_id: Id
    amount_money: PositiveMoneyIn
    reason: Text


class Refund(msgspec.Struct, rename="camel"):
    id: str
    payment_id: str
    order_id: str
    amount_money: Money
    reason: str
    status: Literal["pending", "completed", "failed"]
    created_at: Timestamp
