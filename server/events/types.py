"""Wire types of the event feed (contract §11)."""

from __future__ import annotations

from typing import Literal

import msgspec

from server.wire import Timestamp

# Every type the feed can hold (`rules.TYPES` says what each means; a test keeps the two equal).
EventType = Literal[
    "job.created", "job.assigned", "job.updated", "job.status_changed", "job.note_added",
    "order.created", "order.line_item_added", "order.line_item_removed", "order.state_changed",
    "order.updated", "order.deposit_applied", "order.deposit_lowered", "order.line_items_moved",
    "payment.captured", "payment.declined", "payment.recorded",
    "refund.created",
    "payment_link.created", "payment_link.cancelled",
    "sms.queued", "sms.sent", "sms.delivered", "sms.failed", "sms.blocked",
    "invoice.created", "invoice.published", "invoice.cancelled", "invoice.paid", "invoice.reminder_sent",
    "plan.cycle_billed", "plan.past_due", "autopay.charged", "autopay.failed",
    "estimate.created", "estimate.updated", "estimate.sent", "estimate.viewed", "estimate.approved",
    "estimate.declined", "estimate.expired", "estimate.voided",
    "approval.requested", "approval.approved", "approval.declined",
    "mutation.rejected",
]  # fmt: skip


class Event(msgspec.Struct, rename="camel", omit_defaults=True):
    """Something that happened in the account. `data` is the object it changed, as the API
    shows it after the change (the reference's `webhooks` section has each shape)."""

    id: str
    type: EventType
    created_at: Timestamp
    data: msgspec.Raw
    job_id: str | None = None


class MutationRejected(msgspec.Struct, rename="camel"):
    """`data` of `mutation.rejected`: the device's change the server refused, and why."""

    mutation_id: int
    name: str
    code: str
    detail: str
    device_id: str | None
