"""Invoices: an order's money asked for in payment requests, numbered 1, 2, 3, ... as they are
made, drafted, published (a page and a text), paid through that page request by request, or
cancelled. What each request asks and has been paid, the state and `overdue` are worked out at
every read from the order, the charges and the clock, so they follow the order as it changes."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from server.clock import parse_date, parse_time, today
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.invoices import rules, store
from server.invoices.rules import Ask, AskIn, Standing
from server.invoices.types import CreateInvoice, Invoice, PaymentRequest, PaymentRequestIn, Recipient
from server.messages import service as messages
from server.messages.types import SmsMessage
from server.money import Currency, Money, display
from server.orders import ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

SYSTEM = Actor(kind="system", id="invoices")


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/invoices/{token}"


def new_token() -> str:
    """192 random bits: the token is the recipient's only credential, so it is not the id."""
    return secrets.token_urlsafe(24)


def day_label(day: date) -> str:
    """`May 4, 2026`, as texts and the page write a due date."""
    return f"{day:%b} {day.day}, {day.year}"


@dataclass(frozen=True, slots=True)
class InvoiceNow:
    """An invoice as it stands now."""

    state: str
    overdue: bool
    currency: Currency
    total: int
    paid: int  # through the invoice, less refunds
    elsewhere: int  # paid on the order some other way, counted toward the requests
    due: int  # what is left to pay
    requests: list[Standing]
    captured: list[Row]  # charges captured through the invoice, oldest first
    in_flight: Row | None  # a card charge through it being processed

    @property
    def next_due(self) -> Standing | None:
        return rules.next_due(self.requests) if rules.is_open(self.state) else None


def asks_of(rows: Sequence[Row]) -> list[Ask]:
    return [
        Ask(
            uid=r["uid"],
            type=r["type"],
            amount=r["amount"],
            percentage=r["percentage"],
            due=date.fromisoformat(r["due_date"]),
            position=index,
        )
        for index, r in enumerate(rows)
    ]


def standings(tx: Tx, rows: Sequence[Row]) -> dict[str, InvoiceNow]:
    """Each invoice as it stands now (a fixed number of queries however many invoices)."""
    ids = [r["id"] for r in rows]
    requests = store.requests_of(tx, ids)
    charges = store.charges_of(tx, ids)
    captured_ids = [c["id"] for found in charges.values() for c in found if c["status"] == "captured"]
    refunded = store.refunded_of_charges(tx, captured_ids)
    order_rows = {r["id"]: r for r in orders_store.get_many(tx, list({r["order_id"] for r in rows}))}
    day = today(tx.now)
    found: dict[str, InvoiceNow] = {}
    for row in rows:
        own = charges.get(row["id"], [])
        captured = [c for c in own if c["status"] == "captured"]
        in_flight = next((c for c in own if c["status"] == "pending"), None)
        paid: dict[str, int] = {}
        for charge in captured:
            uid = rules.request_of(charge["invoice_request"] or "")
            paid[uid] = paid.get(uid, 0) + charge["amount"] - refunded.get(charge["id"], 0)
        through = sum(paid.values())
        order = ledger.order_now(order_rows[row["order_id"]])
        flying = [rules.request_of(in_flight["invoice_request"] or "")] if in_flight is not None else []
        own_flight = in_flight["amount"] if in_flight is not None else 0
        # Money held on the order some other way (in doubt included) counts toward the requests;
        # and the invoice never asks more than the order owes (a deposit order's ask is capped by the work).
        elsewhere = order.held - own_flight - through
        asks = asks_of(requests.get(row["id"], []))
        now = rules.standings(asks, order.total, paid, elsewhere, flying, cap=order.balance + own_flight)
        state = rules.state_of(row["status"], row["order_state"], now)
        found[row["id"]] = InvoiceNow(
            state=state,
            overdue=rules.overdue(state, now, day),
            currency=row["currency"],
            total=order.total,
            paid=through,
            elsewhere=max(0, elsewhere),
            due=0 if state == "cancelled" else sum(r.left for r in now),
            requests=now,
            captured=captured,
            in_flight=in_flight,
        )
    return found


def standing(tx: Tx, row: Row) -> InvoiceNow:
    return standings(tx, [row])[row["id"]]


def _request(r: Standing, currency: Currency) -> PaymentRequest:
    return PaymentRequest(
        uid=r.uid,
        type=r.ask.type,  # type: ignore[arg-type]
        due_date=r.ask.due.isoformat(),
        computed_amount_money=Money(r.computed, currency),
        paid_money=Money(r.paid, currency),
        amount_due_money=Money(r.left, currency),
        amount_money=Money(r.ask.amount, currency) if r.ask.amount is not None else None,
        percentage=r.ask.percentage / 100 if r.ask.percentage is not None else None,
    )


def view(row: Row, now: InvoiceNow, public_url: str) -> Invoice:
    currency = now.currency
    upcoming = rules.next_due(now.requests) if now.state != "cancelled" else None
    return Invoice(
        id=row["id"],
        number=row["number"],
        order_id=row["order_id"],
        job_id=row["job_id"],
        customer_id=row["customer_id"],
        state=now.state,  # type: ignore[arg-type]
        overdue=now.overdue,
        recipient=Recipient(name=row["recipient_name"], phone=row["recipient_phone"], email=row["recipient_email"]),
        po_number=row["po_number"],
        payment_requests=[_request(r, currency) for r in now.requests],
        total_money=Money(now.total, currency),
        paid_money=Money(now.paid, currency),
        paid_elsewhere_money=Money(now.elsewhere, currency),
        amount_due_money=Money(now.due, currency),
        next_due_date=upcoming.ask.due.isoformat() if upcoming is not None else None,
        public_url=url_of(public_url, row["token"]) if row["token"] else None,
        published_at=row["published_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def views(tx: Tx, rows: Sequence[Row], public_url: str) -> list[Invoice]:
    now = standings(tx, rows)
    return [view(row, now[row["id"]], public_url) for row in rows]


def load(tx: Tx, invoice_id: str) -> Row:
    row = store.get(tx, invoice_id)
    if row is None:
        raise NotFound(f"no invoice {invoice_id}")
    return row


def get(tx: Tx, invoice_id: str, public_url: str) -> Invoice:
    return views(tx, [load(tx, invoice_id)], public_url)[0]


def list_page(
    tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None, public_url: str
) -> Page[Invoice]:
    return paginate(store.page(tx, after, limit, order_id, job_id), limit, partial(views, tx, public_url=public_url))


def for_orders(tx: Tx, order_ids: Sequence[str]) -> list[tuple[Row, InvoiceNow]]:
    rows = store.for_orders(tx, order_ids)
    now = standings(tx, rows)
    return [(row, now[row["id"]]) for row in rows]


# Making one.


def _asks_in(given: list[PaymentRequestIn] | None, day: date) -> list[AskIn]:
    """The requests as given, dates and percentages read (400 naming the field when one is not)."""
    if given is None:
        return [AskIn(type="balance", due=day + rules.DEFAULT_DUE, amount=None, currency=None, percentage=None)]
    errors: list[FieldError] = []
    asks: list[AskIn] = []
    for index, ask in enumerate(given):
        due, share = day, None
        try:
            due = parse_date(ask.due_date)
        except ValueError as exc:
            errors.append(FieldError(f"paymentRequests[{index}].dueDate", str(exc)))
        if ask.percentage is not None:
            try:
                share = rules.hundredths(ask.percentage)
            except ValueError as exc:
                errors.append(FieldError(f"paymentRequests[{index}].percentage", str(exc)))
        money = ask.amount_money
        asks.append(
            AskIn(
                type=ask.type,
                due=due,
                amount=money.amount if money is not None else None,
                currency=money.currency if money is not None else None,
                percentage=share if ask.percentage is not None else None,
            )
        )
    if errors:
        raise InvalidRequest(errors[0].message if len(errors) == 1 else "check the payment requests", errors)
    return asks


def create(tx: Tx, actor: Actor, data: CreateInvoice, public_url: str) -> Invoice:
    day = today(tx.now)
    asks = _asks_in(data.payment_requests, day)
    rules.check_requests(asks, day)
    order = orders.referenced(tx, data.order_id)
    if order["state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {order['id']} is cancelled")
    existing = store.open_for_order(tx, order["id"])
    if existing is not None:
        raise RuleViolation(
            "order_already_invoiced", f"order {order['id']} already has invoice {existing['id']}; cancel it first"
        )
    figures = ledger.order_now(order)
    if figures.balance <= 0:
        raise RuleViolation("nothing_due", f"nothing is due on order {order['id']}")
    rules.check_deposits(asks, figures.total, order["currency"])

    invoice_id = new_id("inv")
    number = store.next_number(tx)
    store.insert(
        tx,
        id=invoice_id,
        number=number,
        order_id=order["id"],
        recipient_name=data.recipient.name,
        recipient_phone=data.recipient.phone,
        recipient_email=data.recipient.email,
        po_number=data.po_number,
    )
    store.insert_requests(
        tx,
        invoice_id,
        [
            {
                "uid": str(uuid.uuid4()),
                "type": ask.type,
                "amount": ask.amount,
                "percentage": ask.percentage,
                "due_date": ask.due.isoformat(),
            }
            for ask in asks
        ],
    )
    row = load(tx, invoice_id)
    now = standing(tx, row)
    trail.record(
        tx,
        "invoice.created",
        actor,
        {
            "invoiceId": invoice_id,
            "number": number,
            "orderId": order["id"],
            "totalMoney": Money(now.total, now.currency),
            "requests": len(asks),
            "poNumber": data.po_number,
        },
        job_id=order["job_id"],
        order_id=order["id"],
    )
    return view(row, now, public_url)


def _event(row: Row, now: InvoiceNow) -> dict[str, Any]:
    data: dict[str, Any] = {
        "invoiceId": row["id"],
        "number": row["number"],
        "orderId": row["order_id"],
        "totalMoney": Money(now.total, now.currency),
        "amountDueMoney": Money(now.due, now.currency),
    }
    upcoming = now.next_due
    if upcoming is not None:
        data["nextDueDate"] = upcoming.ask.due.isoformat()
    return data


def publish(tx: Tx, actor: Actor, invoice_id: str, public_url: str, business: str, *, notify: bool = True) -> Invoice:
    """Draft to published: the invoice gets its page, and its recipient a text (same transaction)
    unless `notify` is false (a billing run that tells the customer of several at once)."""
    row = load(tx, invoice_id)
    if row["status"] == "cancelled":
        raise RuleViolation("invoice_cancelled", f"invoice {invoice_id} is cancelled")
    if row["status"] != "draft":
        raise RuleViolation("invoice_not_draft", f"invoice {invoice_id} is already published")
    if row["order_state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {row['order_id']} is cancelled")
    token = new_token()
    phone = row["recipient_phone"]
    store.update(tx, invoice_id, status="published", token=token, published_at=tx.now, last_texted_to=phone)
    row = load(tx, invoice_id)
    now = standing(tx, row)
    trail.record(tx, "invoice.published", actor, _event(row, now), job_id=row["job_id"], order_id=row["order_id"])
    if phone and notify:
        text_invoice(tx, actor, row, now, phone, public_url, business)
    return view(row, now, public_url)


def text_published(tx: Tx, actor: Actor, invoice_id: str, public_url: str, business: str) -> SmsMessage | None:
    """The text `publish` would have sent, for one published without it; None without a phone."""
    row = load(tx, invoice_id)
    phone = row["recipient_phone"]
    if not phone or row["token"] is None:
        return None
    return text_invoice(tx, actor, row, standing(tx, row), phone, public_url, business)


def text_invoice(
    tx: Tx, actor: Actor, row: Row, now: InvoiceNow, to: str, public_url: str, business: str
) -> SmsMessage:
    upcoming = now.next_due
    body = bodies.invoice(
        business,
        row["number"],
        display(Money(now.total, now.currency)),
        url_of(public_url, row["token"]),
        due=display(Money(upcoming.left, now.currency)) if upcoming is not None else None,
        when=day_label(upcoming.ask.due) if upcoming is not None else None,
    )
    return messages.queue(
        tx,
        actor,
        to=to,
        body=body,
        job_id=row["job_id"],
        order_id=row["order_id"],
        invoice_id=row["id"],
        dedupe_key=f"invoice:{row['id']}:published",
    )


def cancel(tx: Tx, actor: Actor, invoice_id: str, public_url: str) -> Invoice:
    """Only an invoice nothing was paid through; its page then says it is no longer active."""
    row = load(tx, invoice_id)
    if row["status"] == "cancelled":
        return get(tx, invoice_id, public_url)
    now = standing(tx, row)
    if now.in_flight is not None:
        raise RuleViolation("payment_in_progress", "the recipient is paying this invoice right now")
    if now.captured:
        raise RuleViolation(
            "invoice_has_payments", f"invoice {invoice_id} has payments; refund them and make a new invoice instead"
        )
    store.update(tx, invoice_id, status="cancelled", cancelled_at=tx.now)
    trail.record(
        tx,
        "invoice.cancelled",
        actor,
        {"invoiceId": invoice_id, "number": row["number"], "orderId": row["order_id"]},
        job_id=row["job_id"],
        order_id=row["order_id"],
    )
    return get(tx, invoice_id, public_url)


def note_paid(tx: Tx, actor: Actor, invoice_id: str) -> bool:
    """Once an invoice is paid in full, say so on the trail, once. Called after a payment through
    its page and by the reminder run (which also sees money taken some other way)."""
    row = load(tx, invoice_id)
    if row["status"] != "published" or row["paid_at"] is not None:
        return False
    now = standing(tx, row)
    if now.state != "paid":
        return False
    store.update(tx, invoice_id, paid_at=tx.now)
    data = {**_event(row, now), "paidMoney": Money(now.paid, now.currency)}
    if now.elsewhere:
        data["paidElsewhereMoney"] = Money(now.elsewhere, now.currency)
    trail.record(tx, "invoice.paid", actor, data, job_id=row["job_id"], order_id=row["order_id"])
    return True


def published_on(row: Row) -> date:
    return parse_time(row["published_at"]).date()
