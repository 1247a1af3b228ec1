from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, PositiveMoneyIn
from server.orders.types import MAX_LINE_ITEMS, LineItemIn, Metadata
from server.wire import Id, Name, Phone, Request, Timestamp

LinkStatus = Literal["active", "paid", "expired", "cancelled"]


class CreatePaymentLink(Request):
    """Exactly one of `orderId` (collect `amountMoney`, by default the balance) and `lineItems`
    (make a new order from them and collect its total)."""

    name: Name
    order_id: Id | None = None
    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=MAX_LINE_ITEMS)] | None = None
    amount_money: PositiveMoneyIn | None = None
    metadata: Metadata | None = None
    expires_at: Timestamp | None = None


class PaymentLink(msgspec.Struct, rename="camel"):
    id: str
    order_id: str
    name: str
    amount_money: Money
    url: str
    status: LinkStatus
    expires_at: Timestamp | None
    metadata: dict[str, str]
    payment_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class SendSms(Request):
    to: Phone | None = None
