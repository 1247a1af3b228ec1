"""Service plans on the wire (contract §3): what a maintenance customer is billed every period,
by invoice or by a balance link texted to them, and the cycles billed so far."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money
from server.orders.types import LineItemIn, LineItemKind
from server.wire import Date, Id, Name, Request, Text, Timestamp

Interval = Literal["week", "month", "quarter", "year"]
Billing = Literal["invoice", "text_to_pay", "autopay"]
PlanStatus = Literal["active", "paused", "cancelled", "past_due"]
CyclePaymentStatus = Literal["paid", "retrying", "failed"]
MAX_PLAN_LINES = 100
DueInDays = Annotated[int, msgspec.Meta(ge=0, le=365, description="Days from billing to the due date.")]


class CreateServicePlan(Request):
    """Each period from `startDate` (a week, a month, a quarter or a year) is billed once: an
    order of `lineItems` on a visit job, then a published invoice due in `dueInDays` (`invoice`),
    the order's balance link texted to the customer (`text_to_pay`), or a charge to the
    customer's card on file (`autopay`; none: 422 `no_card_on_file`), retried 1, 3 and 7 days
    after a decline. `address` is where the
    visits happen (without it, each visit job says "Address on file").

    A `startDate` in the past sets the calendar; billing begins with the period that contains
    the day the plan is made, unless `backfill` is true: then every period since `startDate` is
    billed too. A run that bills several periods of one plan texts its customer once for all."""

    customer_id: Id
    name: Name
    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=MAX_PLAN_LINES)]
    interval: Interval
    start_date: Date
    billing: Billing
    due_in_days: DueInDays = 30
    address: Text | None = None
    backfill: bool = False


class PlanLine(msgspec.Struct, rename="camel"):
    name: str
    quantity: int
    unit_price_money: Money
    kind: LineItemKind
    total_money: Money


class ServicePlan(msgspec.Struct, rename="camel"):
    """`nextBillingDate`: the start of the next period to bill (null unless active). A period
    that starts while the plan is paused is skipped, not billed on resume. An autopay plan whose
    last retry failed is `past_due`: nothing more is billed until a charge succeeds (a card saved
    on the update-card link) or the office resumes it, which tries the owed cycle at once."""

    id: str
    customer_id: str
    name: str
    address: str | None
    line_items: list[PlanLine]
    total_money: Money
    interval: Interval
    start_date: str
    billing: Billing
    due_in_days: int
    status: PlanStatus
    next_billing_date: str | None
    cycles_billed: int
    created_at: Timestamp
    updated_at: Timestamp
    cancelled_at: Timestamp | None


class CyclePayment(msgspec.Struct, rename="camel"):
    """How an autopay cycle's charge went: `status` null until the first charge settles;
    `attempts` counts every charge, the first included; `nextAttemptAt` the next try, if any."""

    status: CyclePaymentStatus | None
    attempts: int
    next_attempt_at: Timestamp | None


class Cycle(msgspec.Struct, rename="camel", omit_defaults=True):
    """One period billed: `periodEnd` is its last day. The order and the visit job were made for
    it, with the invoice or the payment link that asks for the money; an autopay cycle has
    `payment` instead."""

    period_start: str
    period_end: str
    order_id: str
    job_id: str
    created_at: Timestamp
    invoice_id: str | None = None
    payment_link_id: str | None = None
    payment: CyclePayment | None = None


class BillingRun(Request):
    """`asOf` (default today, by the server's clock): bill every period that starts on or before it."""

    as_of: Date | None = None


class BillingRunResult(msgspec.Struct, rename="camel"):
    cycles_created: int
