"""Taking money: a charge is money taken from the customer at once (cash, a check, a card), applied
to the orders that owe it as payments (its parts), oldest order first when it is for a job. The
job's trail shows a charge once, with how it was applied."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.jobs import store as jobs_store
from server.messages import service as messages
from server.money import Currency, Money, display
from server.orders import ledger
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.payments import rules, store
from server.payments.processor import Charge
from server.payments.types import Card, Payment, RecordPayment
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import bodies


def views(tx: Tx, rows: Sequence[Row]) -> list[Payment]:
    refunded = store.refunded(tx, [r["id"] for r in rows])
    return [
        Payment(
            id=row["id"],
            order_id=row["order_id"],
            job_id=row["job_id"],
            charge_id=row["charge_id"],
            amount_money=Money(row["amount"], row["currency"]),
            status=row["status"],
            method=row["method"],
            source=row["source"],
            refunded_money=Money(refunded[row["id"]], row["currency"]),
            created_at=row["created_at"],
            card=Card(brand=row["card_brand"], last4=row["card_last4"]) if row["card_last4"] else None,
            payment_link_id=row["payment_link_id"],
            reference=row["reference"],
            decline_code=row["decline_code"],
        )
        for row in rows
    ]


def get(tx: Tx, payment_id: str) -> Payment:
    row = store.get(tx, payment_id)
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    return views(tx, [row])[0]


def list_page(tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None = None) -> Page[Payment]:
    return paginate(store.page(tx, after, limit, order_id, job_id), limit, partial(views, tx))


# What is owed, and how a payment is split: the one ledger's answer.


@dataclass(frozen=True, slots=True)
class Target:
    """What a payment is for: a job (all its orders) or one order; or (`ahead`) a job's work the
    settling itself makes, so a charge is reserved before the order it pays exists (an estimate's
    deposit: the approval and its work order are made in the transaction that settles the capture)."""

    job_id: str | None = None
    order_id: str | None = None
    ahead: bool = False

    @classmethod
    def of(cls, job_id: str | None, order_id: str | None) -> Target:
        if (job_id is None) == (order_id is None):
            raise InvalidRequest("give exactly one of jobId and orderId", [FieldError("orderId", "or jobId, not both")])
        return cls(job_id, order_id)


@dataclass(frozen=True, slots=True)
class Owed:
    """What a target owes now, in what currency, and card money in flight on it."""

    due: int
    currency: Currency
    in_flight: int
    standing: ledger.Standing
    order: Row | None  # the target, when it is one order

    def parts(self, amount: int | None = None) -> Sequence[tuple[Row | ledger.Kept, int]]:
        """`amount` (None: all that is due) over the orders that owe money, oldest first."""
        if self.order is not None:
            return [(self.order, self.due if amount is None else amount)]
        return self.standing.parts(amount)


def owed(tx: Tx, target: Target) -> Owed:
    if target.order_id is not None:
        row = orders.referenced(tx, target.order_id)
        standing = ledger.standing(tx, row["job_id"], row)
        return Owed(standing.figures.of(row["id"]).balance, row["currency"], row["pending"], standing, row)
    assert target.job_id is not None
    if orders_store.job_customer(tx, target.job_id) is None:
        raise RuleViolation("unknown_job", f"no job {target.job_id}")
    standing = ledger.standing(tx, target.job_id)
    return Owed(standing.figures.balance, standing.currency, standing.in_flight, standing, None)


def check_payable(tx: Tx, target: Target, amount: int, currency: str) -> Owed:
    now = owed(tx, target)
    order_rules.check_currency(now.currency, [currency], "a payment", of="this job" if target.job_id else "this order")
    rules.check_amount_due(now.due, amount, now.currency, now.in_flight)
    return now


# Charges and their parts.


def _charge(
    tx: Tx,
    actor: Actor,
    target: Target,
    parts: Sequence[tuple[Row | ledger.Kept, int]],
    currency: str,
    *,
    status: str,
    method: str,
    source: str,
    payment_link_id: str | None = None,
    invoice_id: str | None = None,
    invoice_request: str | None = None,
    estimate_id: str | None = None,
    reference: str | None = None,
    uid: str | None = None,
    receipt_to: str | None = None,
    receipt_url: str | None = None,
    amount: int | None = None,
) -> str:
    """Insert a charge and its parts, in the caller's transaction (`amount`: of a charge reserved
    ahead of its parts, which has none yet)."""
    charge_id = new_id("ch")
    job_id = target.job_id or parts[0][0]["job_id"]
    store.insert_charge(
        tx,
        id=charge_id,
        job_id=job_id,
        amount=sum(part for _, part in parts) if amount is None else amount,
        currency=currency,
        status=status,
        method=method,
        source=source,
        payment_link_id=payment_link_id,
        invoice_id=invoice_id,
        invoice_request=invoice_request,
        estimate_id=estimate_id,
        reference=reference,
        uid=uid,
        receipt_to=receipt_to,
        receipt_url=receipt_url,
        actor_kind=actor.kind,
        actor_id=actor.id,
    )
    for order, part in parts:
        store.insert(
            tx,
            order["job_id"],
            id=new_id("pay"),
            charge_id=charge_id,
            order_id=order["id"],
            amount=part,
            currency=currency,
            status=status,
            method=method,
            source=source,
            payment_link_id=payment_link_id,
            reference=reference,
        )
        moved = {"paid": part} if status == "captured" else {"pending": part}
        ledger.money_moved(tx, order["id"], order["job_id"], **moved)
    refigure(tx, [(order["job_id"], order["id"]) for order, _ in parts])
    return charge_id


def refigure(tx: Tx, touched: Iterable[tuple[str | None, str]]) -> None:
    """Work out again each job (an order on no job: the order) whose money moved, once."""
    seen: set[str] = set()
    for job_id, order_id in touched:
        if (job_id or order_id) in seen:
            continue
        seen.add(job_id or order_id)
        ledger.refigure(tx, job_id, None if job_id is not None else orders_store.get(tx, order_id))


def charge_event(tx: Tx, actor: Actor, charge_id: str, client_at: str | None = None) -> None:
    """The charge on the job's trail, once, with each part it was applied to."""
    charge = store.get_charge(tx, charge_id)
    assert charge is not None
    parts = store.parts_of(tx, charge_id)
    if charge["status"] == "declined":
        kind = "payment.declined"
    else:
        kind = "payment.captured" if charge["method"] == "card" else "payment.recorded"
    currency = charge["currency"]
    data: dict[str, Any] = {
        "chargeId": charge_id,
        "amountMoney": Money(charge["amount"], currency),
        "method": charge["method"],
        "source": charge["source"],
        "parts": [
            {"paymentId": p["id"], "orderId": p["order_id"], "amountMoney": Money(p["amount"], currency)} for p in parts
        ],
    }
    optional = {
        "card": Card(brand=charge["card_brand"], last4=charge["card_last4"]) if charge["card_last4"] else None,
        "paymentLinkId": charge["payment_link_id"],
        "invoiceId": charge["invoice_id"],
        "estimateId": charge["estimate_id"],
        "declineCode": charge["decline_code"],
        "reference": charge["reference"],
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    orders_of = {p["order_id"] for p in parts}
    trail.record(
        tx,
        kind,
        actor,
        data,
        job_id=charge["job_id"],
        order_id=next(iter(orders_of)) if len(orders_of) == 1 else None,
        client_at=client_at,
    )


def record_offline(
    tx: Tx,
    actor: Actor,
    data: RecordPayment,
    *,
    business: str,
    source: str = "office",
    uid: str | None = None,
    client_at: str | None = None,
) -> Payment:
    """Cash or a check taken by the office or on site, for an order or for a job, and its receipt
    texted to the customer. Answers with the first of its parts (for a job: the oldest order's)."""
    target = Target.of(data.job_id, data.order_id)
    if target.order_id is not None and orders.referenced(tx, target.order_id)["state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {target.order_id} is cancelled")
    now = check_payable(tx, target, data.amount_money.amount, data.amount_money.currency)
    parts = now.parts(data.amount_money.amount)
    charge_id = _charge(
        tx,
        actor,
        target,
        parts,
        now.currency,
        status="captured",
        method=data.method,
        source=source,
        reference=data.reference,
        uid=uid,
        receipt_to=customer_phone(tx, parts[0][0]),
    )
    charge_event(tx, actor, charge_id, client_at)
    text_receipt(tx, charge_id, business)
    return views(tx, store.parts_of(tx, charge_id)[:1])[0]


def customer_phone(tx: Tx, order: Row | ledger.Kept) -> str | None:
    customer = customers_store.get(tx, order["customer_id"]) if order["customer_id"] else None
    return customer["phone"] if customer else None


# Cards: reserved while the processor is asked, then settled.


@dataclass(frozen=True, slots=True)
class CardAttempt:
    charge_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Collecting:
    """Who is paying by card and where the receipt goes."""

    source: str
    payment_link_id: str | None = None
    invoice_id: str | None = None
    invoice_request: str | None = None
    estimate_id: str | None = None
    receipt_to: str | None = None
    receipt_url: str | None = None


def reserve_card(
    tx: Tx, actor: Actor, target: Target, amount: int | None, collecting: Collecting, currency: Currency | None = None
) -> CardAttempt:
    """Reserve `amount` (None: all that is due) as a charge in flight, so nothing else takes the
    same money while the processor is asked. The charge id is the processor's idempotency key.
    A charge `ahead` of its work order is reserved for `amount` in `currency` with no parts yet."""
    if target.ahead:
        assert target.job_id is not None and amount is not None and currency is not None
        charge_id = _charge(
            tx, actor, target, [], currency, status="pending", method="card", amount=amount, **vars_of(collecting)
        )
        return CardAttempt(charge_id, Money(amount, currency))
    now = owed(tx, target)
    wanted = now.due if amount is None else amount
    rules.check_amount_due(now.due, max(wanted, 1), now.currency, now.in_flight)
    charge_id = _charge(
        tx,
        actor,
        target,
        now.parts(wanted),
        now.currency,
        status="pending",
        method="card",
        **vars_of(collecting),
    )
    return CardAttempt(charge_id, Money(wanted, now.currency))


def vars_of(collecting: Collecting) -> dict[str, Any]:
    return {
        "source": collecting.source,
        "payment_link_id": collecting.payment_link_id,
        "invoice_id": collecting.invoice_id,
        "invoice_request": collecting.invoice_request,
        "estimate_id": collecting.estimate_id,
        "receipt_to": collecting.receipt_to,
        "receipt_url": collecting.receipt_url,
    }


def attempt_of(charge: Row) -> CardAttempt:
    return CardAttempt(charge["id"], Money(charge["amount"], charge["currency"]))


# What settling a charge reserved ahead of its work order does, by the charge's `source`: with
# the charge captured it makes the order and applies the charge to it (`apply_ahead`); declined,
# it makes nothing. Wired by the app (the domains that reserve such charges sit above this one).
Completion = Callable[[Tx, Row, Actor], None]


def settle_card(
    tx: Tx,
    actor: Actor,
    charge_id: str,
    result: Charge,
    business: str,
    completions: Mapping[str, Completion] | None = None,
) -> Row:
    """What the processor said: the charge and its parts become captured or declined, with the
    trail event, the deposit applied again, and a receipt texted. Settling twice changes nothing.
    A charge reserved ahead of its work order is completed by its source's `Completion`, in this
    same transaction: captured and completed, or neither."""
    charge = store.get_charge(tx, charge_id)
    assert charge is not None
    if charge["status"] != "pending":
        return charge
    store.settle_charge(
        tx,
        charge_id,
        status="captured" if result.approved else "declined",
        card_brand=result.brand,
        card_last4=result.last4 or None,
        decline_code=result.decline_code,
        processor_ref=result.reference,
    )
    parts = store.parts_of(tx, charge_id)
    if not parts:
        complete = (completions or {}).get(charge["source"])
        if complete is None:
            raise RuntimeError(f"charge {charge_id} ({charge['source']}) has no parts and nothing completes it")
        settled = store.get_charge(tx, charge_id)
        assert settled is not None
        complete(tx, settled, actor)
    for part in parts:
        captured = part["amount"] if result.approved else 0
        ledger.money_moved(tx, part["order_id"], part["job_id"], pending=-part["amount"], paid=captured)
    refigure(tx, [(part["job_id"], part["order_id"]) for part in parts])
    charge_event(tx, actor, charge_id)
    if result.approved:
        text_receipt(tx, charge_id, business)
    settled = store.get_charge(tx, charge_id)
    assert settled is not None
    return settled


def apply_ahead(tx: Tx, charge_id: str, order: Row) -> str:
    """A captured charge reserved ahead of its work order, applied to that order now it exists
    (in the settling transaction); returns the payment made."""
    charge = store.get_charge(tx, charge_id)
    assert charge is not None and charge["status"] == "captured" and not store.parts_of(tx, charge_id)
    payment_id = new_id("pay")
    store.insert(
        tx,
        order["job_id"],
        id=payment_id,
        charge_id=charge_id,
        order_id=order["id"],
        amount=charge["amount"],
        currency=charge["currency"],
        status="captured",
        method="card",
        source=charge["source"],
        card_brand=charge["card_brand"],
        card_last4=charge["card_last4"],
        processor_ref=charge["processor_ref"],
    )
    ledger.money_moved(tx, order["id"], order["job_id"], paid=charge["amount"])
    ledger.refigure(tx, order["job_id"], order)
    return payment_id


def text_receipt(tx: Tx, charge_id: str, business: str) -> None:
    """The customer's receipt by text: what was paid, how, for what, and what the job still owes
    (the one answer), unless there is nobody to text."""
    charge = store.get_charge(tx, charge_id)
    assert charge is not None
    if not charge["receipt_to"]:
        return
    parts = store.parts_of(tx, charge_id)
    what, still = owed_after(tx, charge["job_id"], parts[0]["order_id"])
    how = {"cash": "in cash", "check": "by check"}.get(charge["method"], "by card")
    if charge["card_last4"]:
        how = f"with card ending {charge['card_last4']}"
    body = bodies.receipt(
        business,
        display(Money(charge["amount"], charge["currency"])),
        how,
        what,
        display(Money(still, charge["currency"])) if still else None,
        charge["receipt_url"] or "",
    )
    messages.queue(
        tx,
        messages.SYSTEM,
        to=charge["receipt_to"],
        body=body,
        job_id=charge["job_id"],
        order_id=parts[0]["order_id"] if len(parts) == 1 else None,
        payment_link_id=charge["payment_link_id"],
        invoice_id=charge["invoice_id"],
        dedupe_key=f"receipt:{charge_id}",
    )


def owed_after(tx: Tx, job_id: str | None, order_id: str) -> tuple[str, int]:
    """What money was for (the job's title, else the order's first line) and what is still owed
    on it: the job's balance, else the order's."""
    if job_id is not None:
        job = jobs_store.get(tx, job_id)
        money = ledger.jobs_money(tx, [job_id]).get(job_id)
        return (job["title"] if job else "your job"), (money.balance if money else 0)
    order = orders.referenced(tx, order_id)
    lines = orders_store.lines_of(tx, [order_id])[order_id]
    return (lines[0]["name"] if lines else "your order"), ledger.order_now(order).balance


def note_reference(tx: Tx, charge_id: str, reference: str) -> None:
    """The processor's own id for a charge it started (a PaymentIntent), kept before its outcome."""
    store.note_reference(tx, charge_id, reference)


def charge_by_id(tx: Tx, charge_id: str) -> Row | None:
    return store.get_charge(tx, charge_id)


def charge_row(tx: Tx, charge_id: str) -> Row:
    row = store.get_charge(tx, charge_id)
    if row is None:
        raise NotFound(f"no charge {charge_id}")
    return row


def first_order_of(tx: Tx, charge_id: str) -> str | None:
    parts = store.parts_of(tx, charge_id)
    return parts[0]["order_id"] if parts else None


def pending_cards(tx: Tx) -> list[CardAttempt]:
    return [attempt_of(row) for row in store.charges_in_status(tx, "pending")]


def charge_by_uid(tx: Tx, uid: str) -> Row | None:
    return store.charge_by_uid(tx, uid)
