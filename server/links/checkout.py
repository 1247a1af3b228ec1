"""The customer's side of a link: what the pay page shows, and paying it at most once.

Paying is three steps so that the card processor is never called inside a database
transaction: `begin` reserves the amount as a payment in flight, the processor charges with
that payment's id as its idempotency key, `finish` settles it. The route holds a per-link lock
across the three, so concurrent posts of one form run one after another and the later ones
find the link paid. A unique index allows one captured payment per link whatever happens, and
a payment left in flight by a crash is resumed under its own id, never charged afresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from server.errors import FieldError, Gone, InvalidRequest, NotFound
from server.ids import new_id
from server.jobs import store as jobs_store
from server.links import rules, store
from server.money import Money
from server.orders import service as orders
from server.orders.types import Order
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.processor import CardDetails, Charge, luhn_valid
from server.payments.types import Payment
from server.store import Row, Tx
from server.wire import Actor


@dataclass(frozen=True, slots=True)
class PageModel:
    token: str
    link_id: str
    name: str
    status: str
    amount: Money
    order: Order
    job_title: str | None
    job_address: str | None
    payment: Payment | None


@dataclass(frozen=True, slots=True)
class Attempt:
    payment_id: str
    link_id: str
    amount: Money


def _link(tx: Tx, token: str) -> Row:
    link = store.by_token(tx, token) if token else None
    if link is None:
        raise NotFound("there is no payment request at this address")
    return link


def page_model(tx: Tx, token: str) -> PageModel:
    link = _link(tx, token)
    order = orders.get(tx, link["order_id"])
    job = jobs_store.get(tx, link["job_id"]) if link["job_id"] else None
    return PageModel(
        token=token,
        link_id=link["id"],
        name=link["name"],
        status=rules.status_at(link["status"], link["expires_at"], tx.now),
        amount=Money(link["amount"], link["currency"]),
        order=order,
        job_title=job["title"] if job else None,
        job_address=job["address"] if job else None,
        payment=payments.get(tx, link["payment_id"]) if link["payment_id"] else None,
    )


def check_payable(status: str, order_state: str) -> None:
    if status == "cancelled":
        raise Gone("this payment request was cancelled")
    if status == "expired":
        raise Gone("this payment request has expired")
    if order_state == "cancelled":
        raise Gone("the order behind this payment request was cancelled")


def begin(tx: Tx, token: str) -> Attempt | None:
    """Reserve the link's amount as a payment in flight; None when the link is already paid."""
    link = _link(tx, token)
    if link["status"] == "paid":
        return None
    in_flight = payments_store.pending_for_link(tx, link["id"])
    if in_flight is not None:
        # Left by a process that died mid-charge: resume it under the same id, so a processor
        # that saw the first charge answers with it instead of charging again.
        return Attempt(in_flight["id"], link["id"], Money(in_flight["amount"], in_flight["currency"]))
    order = orders.load(tx, link["order_id"])
    check_payable(rules.status_at(link["status"], link["expires_at"], tx.now), order["state"])
    if orders.figures_of(tx, [order])[order["id"]].collectible < link["amount"]:
        raise Gone("the amount of this request is no longer due; ask for a new link")
    payment_id = new_id("pay")
    payments_store.insert(
        tx,
        order["job_id"],
        id=payment_id,
        order_id=order["id"],
        amount=link["amount"],
        currency=link["currency"],
        status="pending",
        method="card",
        source="pay_link",
        payment_link_id=link["id"],
    )
    return Attempt(payment_id, link["id"], Money(link["amount"], link["currency"]))


def finish(tx: Tx, attempt: Attempt, charge: Charge, actor: Actor | None = None) -> Payment:
    link = store.get(tx, attempt.link_id)
    assert link is not None
    order = orders.load(tx, link["order_id"])
    payment = payments.settle(
        tx,
        actor or Actor(kind="customer", id=order["customer_id"]),
        order,
        attempt.payment_id,
        status="captured" if charge.approved else "declined",
        card_brand=charge.brand,
        card_last4=charge.last4 or None,
        decline_code=charge.decline_code,
        processor_ref=charge.reference,
    )
    if charge.approved:
        store.set_status(tx, link, "paid", attempt.payment_id)
    return payment


def in_flight(tx: Tx) -> list[Attempt]:
    return [
        Attempt(row["id"], row["payment_link_id"], Money(row["amount"], row["currency"]))
        for row in payments_store.in_flight(tx)
    ]


def parse_card(form: Mapping[str, str], today: dt.date) -> CardDetails:
    """The card form's fields, checked as a customer would want them checked, or a 400 listing each."""
    errors: list[FieldError] = []
    number = "".join(form.get("cardNumber", "").split()).replace("-", "")
    if not number:
        errors.append(FieldError("cardNumber", "Enter the card number."))
    elif not luhn_valid(number):
        errors.append(FieldError("cardNumber", "That card number is not valid. Check the digits."))
    month = _int(form.get("expMonth", ""))
    year = _int(form.get("expYear", ""))
    if year is not None and year < 100:
        year += 2000
    if month is None or not 1 <= month <= 12:
        errors.append(FieldError("expMonth", "Enter the expiry month, 1 to 12."))
    if year is None or not 2000 <= year <= 2100:
        errors.append(FieldError("expYear", "Enter the expiry year."))
    elif month is not None and 1 <= month <= 12 and (year, month) < (today.year, today.month):
        errors.append(FieldError("expYear", "This card has expired."))
    cvc = form.get("cvc", "").strip()
    if not (cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4):
        errors.append(FieldError("cvc", "Enter the 3 or 4 digit security code."))
    postal = form.get("postalCode", "").strip()
    if not 3 <= len(postal) <= 10 or not postal.isprintable():
        errors.append(FieldError("postalCode", "Enter the billing postal code."))
    if errors:
        raise InvalidRequest("check the card details", errors)
    assert month is not None and year is not None
    return CardDetails(number=number, exp_month=month, exp_year=year, cvc=cvc, postal_code=postal)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None
