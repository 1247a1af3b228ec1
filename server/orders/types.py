from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, MoneyIn
from server.wire import Actor, Id, Name, Request, Timestamp, Uid, Version
from sync.limits import NO_CONTROL, TEXT_CHARACTERS

LineItemKind = Literal[
    "service", "addon", "travel", "material", "deposit", "discount", "deposit_applied", "deposit_refunded"
]
OrderState = Literal["open", "completed", "cancelled"]
# A change order's line waits for the customer (`pending`) and counts in no figure until
# `approved`; `declined` stays as a record. Every other line is `none`.
ApprovalState = Literal["none", "pending", "approved", "declined"]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10000)]
MetadataKey = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NO_CONTROL)]
MetadataValue = Annotated[str, msgspec.Meta(max_length=500, pattern=TEXT_CHARACTERS)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], msgspec.Meta(max_length=50)]
MAX_LINE_ITEMS = 500
REQUIRED = "`required`: added work the customer approves first (contract §8); until then it is owed by nobody."


class LineItemIn(Request):
    name: Name
    quantity: Quantity
    unit_price_money: MoneyIn
    kind: LineItemKind = "service"
    uid: Uid | None = None
    approval: Annotated[Literal["required"] | None, msgspec.Meta(description=REQUIRED)] = None


LineItems = Annotated[list[LineItemIn], msgspec.Meta(max_length=MAX_LINE_ITEMS)]


class CreateOrder(Request):
    line_items: LineItems = []
    metadata: Metadata | None = None
    customer_id: str | None = None
    job_id: Id | None = None  # the same as `metadata.jobId` (contract §3 v3)


class AddLineItems(Request):
    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=MAX_LINE_ITEMS)]
    version: Version | None = None


class UpdateOrder(Request):
    version: Version
    metadata: Metadata | None = None
    state: OrderState | None = None


class LineItem(msgspec.Struct, rename="camel"):
    uid: str
    name: str
    quantity: int
    unit_price_money: Money
    kind: LineItemKind
    total_money: Money
    added_by: Actor
    approval: ApprovalState


class Order(msgspec.Struct, rename="camel"):
    id: str
    version: int
    state: OrderState
    customer_id: str | None
    job_id: str | None
    metadata: dict[str, str]
    line_items: list[LineItem]
    total_money: Money
    paid_money: Money
    refunded_money: Money
    balance_money: Money
    created_at: Timestamp
    updated_at: Timestamp


class OrderHead(msgspec.Struct, rename="camel"):
    """`Order` with its lines already JSON (`server.orders.service.rendered`)."""

    id: str
    version: int
    state: OrderState
    customer_id: str | None
    job_id: str | None
    metadata: dict[str, str]
    line_items: msgspec.Raw
    total_money: Money
    paid_money: Money
    refunded_money: Money
    balance_money: Money
    created_at: Timestamp
    updated_at: Timestamp
