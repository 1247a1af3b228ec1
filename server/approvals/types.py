"""Added work the customer approves (contract §8) on the wire: approval requests, and the
approval itself, a record of evidence that never changes once written."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money
from server.orders.types import MAX_LINE_ITEMS, LineItem
from server.wire import Phone, Request, Timestamp, Uid

Channel = Literal["page", "sms_code", "device"]
RequestStatus = Literal["pending", "approved", "declined", "expired", "replaced", "cancelled"]


class AskForApproval(Request):
    """Without `lineUids`: every line of the order that waits for approval. Without `to`: the
    job's customer."""

    line_uids: Annotated[list[Uid], msgspec.Meta(min_length=1, max_length=MAX_LINE_ITEMS)] | None = None
    to: Phone | None = None


class LinesApproval(msgspec.Struct, rename="camel"):
    """The customer's approval of added work, as it happened: who (the name typed, or the number
    that replied with the code), when, from where, by which channel, and exactly what they saw
    (`contentHash` over the lines' canonical JSON). Written once, never changed."""

    id: str
    order_id: str
    line_uids: list[str]
    signer_name: str | None
    channel: Channel
    at: Timestamp
    content_hash: str
    total_money: Money
    ip: str | None
    user_agent: str | None
    phone: str | None  # the number that replied with the code (`sms_code`)
    device_id: str | None  # the technician's device that took it in person (`device`)
    client_at: str | None  # the device's own time, for display


class ApprovalRequest(msgspec.Struct, rename="camel"):
    """Lines of an order put to the customer. `pending` while its link and code can approve them
    (24 hours); `replaced` by a newer request for any of its lines (its code stops working),
    `cancelled` when one of its lines was removed; `expired` after 24 hours. An approval taken in
    person on a device is a request of channel `device`, approved at once (no link, no code)."""

    id: str
    order_id: str
    job_id: str | None
    line_uids: list[str]
    line_items: list[LineItem]
    status: RequestStatus
    channel: Literal["text", "device"]
    content_hash: str
    total_money: Money
    to: str | None
    sms_id: str | None
    url: str | None
    expires_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    decline_reason: str | None
    approval: LinesApproval | None
