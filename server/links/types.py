from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, PositiveMoneyIn
from server.orders.types import MAX_LINE_ITEMS, LineItemIn, Metadata
from server.wire import Id, Name, Phone, Request, Timestamp

LinkStatus = Literal["active", "paid", "closed", "expired", "cancelled"]


class CreatePaymentLink(Request):
    """Exactly one of `jobId` and `orderId` (a balance link, or a fixed one with `amountMoney`)
    and `lineItems` (a new order made from them; the link collects its total)."""

    name: Name
    job_id: Id | None = None
    order_id: Id | None = None
    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=MAX_LINE_ITEMS)] | None = None
    amount_money: PositiveMoneyIn | None = None
    metadata: Metadata | None = None
    expires_at: Timestamp | None = None


class PaymentLink(msgspec.Struct, rename="camel"):
    """`amountMoney` is what the link collects now: for a balance link, what its job or order owes
    at this moment (worked out at every read); for a fixed link, its amount; once paid, what was
    paid through it."""

    id: str
    job_id: str | None
    order_id: str | None
    name: str
    fixed: bool
    amount_money: Money
    url: str
    status: LinkStatus
    expires_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    metadata: dict[str, str]
    charge_id: str | None


class SendSms(Request):
    to: Phone | None = None
