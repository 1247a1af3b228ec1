"""The customer's side of a link: what the pay page shows, and beginning a card payment.

Paying goes through the one customer checkout (`server.payments.checkout`): this module says
what the link collects now (`charging_now`); the checkout checks it against what the page showed,
reserves it, charges and settles. One card payment at a time per job; a unique index allows one
captured charge per link whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import ChargeInDoubt, Gone, NotFound, RuleViolation
from server.jobs import store as jobs_store
from server.links import service, store
from server.links.service import LinkState
from server.money import Money
from server.orders import ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import Order
from server.payments import charging
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.checkout import Charging
from server.payments.service import Collecting
from server.store import Row, Tx
from server.wire import Actor


@dataclass(frozen=True, slots=True)
class Receipt:
    """A captured charge as the customer reads it."""

    charge_id: str
    amount: Money
    refunded: Money
    brand: str | None
    last4: str | None
    at: str


@dataclass(frozen=True, slots=True)
class PageModel:
    token: str
    link_id: str
    name: str
    status: str
    amount: Money  # what the link collects now, or collected
    due: Money  # what the link's job or order owes now
    still_owed: Money  # what the job owes now (the one answer; an order on no job: what it owes)
    orders: list[Order]  # the orders the amount is for, with their lines
    parts: list[tuple[str, Money]]  # how the amount splits over them (order id, amount)
    job_title: str | None
    job_address: str | None
    receipt: Receipt | None  # the charge that paid this link
    receipts: list[Receipt]  # what has been paid on the job or order
    confirming: bool  # a card charge through the link is being processed


class Closed(RuleViolation):
    """Nothing this link could collect is due now."""

    def __init__(self) -> None:
        super().__init__("link_closed", "nothing is due through this payment request now")


def link_by_token(tx: Tx, token: str) -> Row:
    link = store.by_token(tx, token) if token else None
    if link is None:
        raise NotFound("there is no payment request at this address")
    return link


def receipts(tx: Tx, charges: list[Row]) -> list[Receipt]:
    parts = payments_store.parts_of_charges(tx, [c["id"] for c in charges])
    given_back = payments_store.refunded(tx, [p["id"] for p in parts])
    refunded: dict[str, int] = {}
    for part in parts:
        refunded[part["charge_id"]] = refunded.get(part["charge_id"], 0) + given_back[part["id"]]
    return [
        Receipt(
            charge_id=c["id"],
            amount=Money(c["amount"], c["currency"]),
            refunded=Money(refunded.get(c["id"], 0), c["currency"]),
            brand=c["card_brand"],
            last4=c["card_last4"],
            at=c["settled_at"] or c["created_at"],
        )
        for c in charges
    ]


@dataclass(frozen=True, slots=True)
class Paying:
    """What a post to the page needs to know before it takes a card: the link's status now, its
    payment line and its payer (the page itself is read once the post has its outcome)."""

    link_id: str
    status: str
    lock: str
    payer: Actor


def paying(tx: Tx, token: str) -> Paying:
    link = link_by_token(tx, token)
    state = service.state_of(tx, link)
    return Paying(link["id"], state.status, charging.lock_key(link["job_id"], link["order_id"]), customer(tx, link))


def page_model(tx: Tx, token: str) -> PageModel:
    link = link_by_token(tx, token)
    state = service.state_of(tx, link)
    target = service.target_of(link)
    currency = link["currency"]
    if state.captured is not None:
        parts = [(p["order_id"], p["amount"]) for p in payments_store.parts_of(tx, state.captured["id"])]
    elif state.status == "active":
        owed = payments.owed(tx, target)
        parts = [(row["id"], part) for row, part in owed.parts(state.amount)]
    else:
        parts = []
    if target.order_id is not None:
        shown = [target.order_id]
        paid_charges = payments_store.captured_for_orders(tx, shown)
    else:
        assert target.job_id is not None
        shown = [p[0] for p in parts] or [r["id"] for r in orders_store.for_job(tx, target.job_id)]
        paid_charges = payments_store.captured_for_job(tx, target.job_id)
    job = jobs_store.get(tx, link["job_id"]) if link["job_id"] else None
    job_money = ledger.jobs_money(tx, [link["job_id"]]).get(link["job_id"]) if link["job_id"] else None
    return PageModel(
        token=token,
        link_id=link["id"],
        name=link["name"],
        status=state.status,
        amount=Money(state.amount, currency),
        due=Money(state.due, currency),
        still_owed=Money(job_money.balance if job_money is not None else state.due, currency),
        orders=orders.views(tx, orders_store.get_many(tx, shown)),
        parts=[(order_id, Money(amount, currency)) for order_id, amount in parts],
        job_title=job["title"] if job else None,
        job_address=job["address"] if job else None,
        receipt=receipts(tx, [state.captured])[0] if state.captured is not None else None,
        receipts=receipts(tx, paid_charges),
        confirming=state.in_flight is not None,
    )


def check_payable(status: str) -> None:
    if status == "cancelled":
        raise Gone("this payment request was cancelled")
    if status == "expired":
        raise Gone("this payment request has expired")
    if status == "closed":
        raise Closed()


def charging_now(tx: Tx, token: str, public_url: str) -> Charging | None:
    """What the link collects now, for the one checkout; None when it is paid."""
    link = link_by_token(tx, token)
    state: LinkState = service.state_of(tx, link)
    if state.status == "paid":
        return None
    if state.in_flight is not None:
        # Found under the job's lock, so no request of this process is charging it: it was
        # sent and never settled. It is settled with the processor, never charged again.
        raise ChargeInDoubt("a payment through this request is being confirmed")
    check_payable(state.status)
    collecting = Collecting(
        source="pay_link",
        payment_link_id=link["id"],
        receipt_to=link["last_texted_to"] or service.customer_phone(tx, link),
        receipt_url=service.url_of(public_url, link["token"]),
    )
    return Charging(service.target_of(link), Money(state.amount, link["currency"]), collecting, customer(tx, link))


def customer(tx: Tx, link: Row) -> Actor:
    return Actor(kind="customer", id=service.customer_of(tx, link))
