"""The recipient's side of an invoice: what its page shows, and beginning a card payment of the
next request due.

Paying goes through the one customer checkout (`server.payments.checkout`), as a payment link
does: this module says what the next request due asks now (`charging_now`). One card payment at
a time per job (the same line as the job's payment links); a unique index allows one capture
per request and key whatever happens. The form names the request and amount it showed, so a
second post of the same form finds that request paid instead of paying the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.clock import today
from server.errors import ChargeInDoubt, Gone, NotFound, RuleViolation
from server.invoices import rules, service, store
from server.invoices.reminders import recipient
from server.invoices.rules import Standing
from server.invoices.types import Recipient
from server.jobs import store as jobs_store
from server.links.checkout import Receipt, receipts
from server.money import Money
from server.orders import service as orders
from server.orders.types import Order
from server.payments.checkout import Charging
from server.payments.service import Collecting, Target
from server.store import Row, Tx
from server.wire import Actor

STATE_LABELS = {
    "unpaid": "Unpaid",
    "partially_paid": "Partly paid",
    "paid": "Paid",
    "cancelled": "Cancelled",
    "draft": "Draft",
}


@dataclass(frozen=True, slots=True)
class RequestLine:
    uid: str
    label: str  # `Deposit (25%)`, `Balance`
    due: str  # `May 4, 2026`
    asked: Money
    paid: Money
    left: Money
    overdue: bool


@dataclass(frozen=True, slots=True)
class InvoicePage:
    token: str
    invoice_id: str
    number: int
    state: str
    state_label: str
    overdue: bool
    recipient: Recipient
    po_number: str | None
    issued: str | None
    order: Order
    job_title: str | None
    job_address: str | None
    requests: list[RequestLine]
    total: Money
    paid: Money
    elsewhere: Money
    due: Money
    next: RequestLine | None  # what the form pays; None when nothing is due
    receipts: list[Receipt]
    confirming: Money | None  # a card charge through the invoice being processed, and its amount


class Changed(RuleViolation):
    """The request or amount the form showed is not what is due now."""

    def __init__(self) -> None:
        super().__init__("invoice_changed", "what is due on this invoice changed; check the amount and pay again")


def invoice_by_token(tx: Tx, token: str) -> Row:
    row = store.by_token(tx, token) if token else None
    if row is None:
        raise NotFound("there is no invoice at this address")
    return row


def _label(request: Standing) -> str:
    if request.ask.type == "balance":
        return "Balance"
    share = request.ask.percentage
    return f"Deposit ({share / 100:g}%)" if share is not None else "Deposit"


def page_model(tx: Tx, token: str) -> InvoicePage:
    row = invoice_by_token(tx, token)
    now = service.standing(tx, row)
    currency = now.currency
    day = today(tx.now)
    lines = [
        RequestLine(
            uid=r.uid,
            label=_label(r),
            due=service.day_label(r.ask.due),
            asked=Money(r.computed, currency),
            paid=Money(r.computed - r.left, currency),
            left=Money(r.left, currency),
            overdue=rules.is_open(now.state) and r.left > 0 and r.ask.due < day,
        )
        for r in now.requests
    ]
    upcoming = now.next_due
    job = jobs_store.get(tx, row["job_id"]) if row["job_id"] else None
    return InvoicePage(
        token=token,
        invoice_id=row["id"],
        number=row["number"],
        state=now.state,
        state_label=STATE_LABELS[now.state],
        overdue=now.overdue,
        recipient=Recipient(name=row["recipient_name"], phone=row["recipient_phone"], email=row["recipient_email"]),
        po_number=row["po_number"],
        issued=service.day_label(service.published_on(row)) if row["published_at"] else None,
        order=orders.get(tx, row["order_id"]),
        job_title=job["title"] if job else None,
        job_address=job["address"] if job else None,
        requests=lines,
        total=Money(now.total, currency),
        paid=Money(now.paid, currency),
        elsewhere=Money(now.elsewhere, currency),
        due=Money(now.due, currency),
        next=next((line for line in lines if upcoming is not None and line.uid == upcoming.uid), None),
        receipts=receipts(tx, now.captured),
        confirming=Money(now.in_flight["amount"], currency) if now.in_flight is not None else None,
    )


def check_payable(state: str) -> None:
    if state == "cancelled":
        raise Gone("this invoice was cancelled")


def lock_of(tx: Tx, token: str) -> str:
    """One card payment at a time per job (or per order without one), shared with payment links."""
    row = invoice_by_token(tx, token)
    return f"pay:{row['job_id'] or row['order_id']}"


def payer(tx: Tx, token: str) -> Actor:
    return Actor(kind="customer", id=invoice_by_token(tx, token)["customer_id"])


def charging_now(tx: Tx, token: str, public_url: str, request_uid: str | None) -> Charging | None:
    """What is left of the next request due, for the one checkout; None when the request the
    form showed (or, with none named, the whole invoice) is paid already."""
    row = invoice_by_token(tx, token)
    now = service.standing(tx, row)
    check_payable(now.state)
    if now.in_flight is not None:
        # Found under the job's lock, so no request of this process is charging it: it was sent
        # and never settled. It is settled with the processor, never charged again.
        raise ChargeInDoubt("a payment of this invoice is being confirmed")
    if request_uid is not None:
        shown = next((r for r in now.requests if r.uid == request_uid), None)
        if shown is None:
            raise Changed()
        if shown.left == 0:
            return None
    upcoming = now.next_due
    if upcoming is None:
        return None
    if request_uid is not None and upcoming.uid != request_uid:
        raise Changed()
    captures = sum(1 for c in now.captured if rules.request_of(c["invoice_request"] or "") == upcoming.uid)
    collecting = Collecting(
        source="invoice",
        invoice_id=row["id"],
        invoice_request=rules.capture_key(upcoming.uid, captures),
        receipt_to=recipient(row),
        receipt_url=service.url_of(public_url, row["token"]),
    )
    actor = Actor(kind="customer", id=row["customer_id"])
    return Charging(Target(order_id=row["order_id"]), Money(upcoming.left, now.currency), collecting, actor)
