"""Invoices on the wire (contract §3): an order's money asked for in payment requests, deposits
first and the balance last, with a page the recipient pays on."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, PositiveMoneyIn
from server.wire import Date, Email, Id, Name, Phone, Request, Text, Timestamp

InvoiceState = Literal["draft", "unpaid", "partially_paid", "paid", "cancelled"]
RequestType = Literal["deposit", "balance"]
MAX_REQUESTS = 12

# A share of the order's total: more than 0 and less than 100, to a hundredth of a percent.
Percentage = Annotated[float, msgspec.Meta(gt=0, lt=100, description="Percent of the order's total, e.g. 25 or 12.5.")]


class RecipientIn(Request):
    name: Name
    phone: Phone | None = None
    email: Email | None = None


class PaymentRequestIn(Request):
    """A `deposit` asks for `amountMoney` or a `percentage` of the order's total; the `balance`
    asks for the rest and takes neither."""

    type: RequestType
    due_date: Date
    amount_money: PositiveMoneyIn | None = None
    percentage: Percentage | None = None


class CreateInvoice(Request):
    """Without `paymentRequests`: one `balance` request due in 30 days."""

    order_id: Id
    recipient: RecipientIn
    po_number: Text | None = None
    payment_requests: Annotated[list[PaymentRequestIn], msgspec.Meta(min_length=1, max_length=MAX_REQUESTS)] | None = (
        None
    )


class Recipient(msgspec.Struct, rename="camel"):
    name: str
    phone: str | None
    email: str | None


class PaymentRequest(msgspec.Struct, rename="camel", omit_defaults=True):
    """`computedAmountMoney` is what the request asks now (the balance: the order's total less the
    deposits, worked out at every read); `paidMoney` what was paid through it (less refunds);
    `amountDueMoney` what is left of it, once money paid on the order some other way counts too."""

    uid: str
    type: RequestType
    due_date: str
    computed_amount_money: Money
    paid_money: Money
    amount_due_money: Money
    amount_money: Money | None = None
    percentage: float | None = None


class Invoice(msgspec.Struct, rename="camel"):
    """`state` is worked out from the requests; `overdue` is true while a request with something
    left is past its due date. `paidElsewhereMoney` is money taken on the order outside this
    invoice (cash, a payment link) that counts toward its requests."""

    id: str
    number: int
    order_id: str
    job_id: str | None
    customer_id: str | None
    state: InvoiceState
    overdue: bool
    recipient: Recipient
    po_number: str | None
    payment_requests: list[PaymentRequest]
    total_money: Money
    paid_money: Money
    paid_elsewhere_money: Money
    amount_due_money: Money
    next_due_date: str | None
    public_url: str | None
    published_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class RemindersRun(msgspec.Struct, rename="camel"):
    reminders_sent: int
