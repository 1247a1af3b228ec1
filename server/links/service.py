"""Payment links: hosted collection for a job or an order. A balance link collects what is owed
when the customer pays; a fixed link collects its amount. What a link collects and its status
are worked out at every read, so no page ever asks for money that is not due."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from server.clock import format_time, parse_time
from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.links import rules, store
from server.links.types import CreatePaymentLink, PaymentLink
from server.messages import service as outbox
from server.messages.types import SmsMessage
from server.money import Money, display
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import CreateOrder
from server.payments import rules as payment_rules
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.service import Target
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.web.context import Answer
from server.wire import Actor
from sms import bodies

DEFAULT_LIFETIME = timedelta(days=30)


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/pay/{token}"


def new_token() -> str:
    """192 random bits; the token is the customer's only credential, so it is not the id."""
    return secrets.token_urlsafe(24)


def target_of(link: Row) -> Target:
    return Target(job_id=link["target_job_id"], order_id=link["order_id"])


@dataclass(frozen=True, slots=True)
class LinkState:
    """A link as it is now."""

    status: str
    amount: int  # what it collects now, or collected once paid
    due: int  # what its job or order owes now
    captured: Row | None  # the charge that paid it
    in_flight: Row | None  # a card charge through it being processed


def state_of(tx: Tx, link: Row) -> LinkState:
    charges = payments_store.charges_for_links(tx, [link["id"]])
    captured = next((c for c in charges if c["status"] == "captured"), None)
    in_flight = next((c for c in charges if c["status"] == "pending"), None)
    due = payments.owed(tx, target_of(link)).due
    fixed = link["amount"] if link["fixed"] else None
    collects = (fixed if fixed <= due else 0) if fixed is not None else due
    status = rules.status_of(
        link["status"],
        link["expires_at"],
        tx.now,
        captured=captured is not None,
        in_flight=in_flight is not None,
        collects=collects,
    )
    if captured is not None:
        amount = captured["amount"]
    elif in_flight is not None:
        amount = in_flight["amount"]
    else:
        amount = fixed if fixed is not None else collects
    return LinkState(status, amount, due, captured, in_flight)


def view(tx: Tx, link: Row, public_url: str) -> PaymentLink:
    state = state_of(tx, link)
    return PaymentLink(
        id=link["id"],
        job_id=link["job_id"],
        order_id=link["order_id"],
        name=link["name"],
        fixed=bool(link["fixed"]),
        amount_money=Money(state.amount, link["currency"]),
        url=url_of(public_url, link["token"]),
        status=state.status,  # type: ignore[arg-type]
        expires_at=link["expires_at"],
        created_at=link["created_at"],
        updated_at=link["updated_at"],
        metadata=orders_store.decode_metadata(link["metadata"]),
        charge_id=state.captured["id"] if state.captured is not None else None,
    )


def views(tx: Tx, rows: Sequence[Row], public_url: str) -> list[PaymentLink]:
    return [view(tx, row, public_url) for row in rows]


def load(tx: Tx, link_id: str) -> Row:
    row = store.get(tx, link_id)
    if row is None:
        raise NotFound(f"no payment link {link_id}")
    return row


def get(tx: Tx, link_id: str, public_url: str) -> PaymentLink:
    return view(tx, load(tx, link_id), public_url)


def list_page(
    tx: Tx, after: int, limit: int, order_id: str | None, public_url: str, job_id: str | None = None
) -> Page[PaymentLink]:
    return paginate(store.page(tx, after, limit, order_id, job_id), limit, partial(views, tx, public_url=public_url))


def _expiry(tx: Tx, expires_at: str | None) -> str:
    if expires_at is None:
        return format_time(parse_time(tx.now) + DEFAULT_LIFETIME)
    try:
        moment = parse_time(expires_at)
    except ValueError as exc:
        raise InvalidRequest(f"expiresAt: {exc}", [FieldError("expiresAt", str(exc))]) from None
    if format_time(moment) <= tx.now:
        raise InvalidRequest("expiresAt is in the past", [FieldError("expiresAt", "must be in the future")])
    return format_time(moment)


@dataclass(frozen=True, slots=True)
class Opened:
    link: Row
    created: bool


def open_link(
    tx: Tx,
    actor: Actor,
    target: Target,
    *,
    name: str,
    amount: int | None,
    currency: str | None = None,
    metadata: dict[str, str] | None = None,
    expires_at: str | None = None,
    client_at: str | None = None,
) -> Opened:
    """A fixed link for `amount`, or the target's balance link (the active one if there is one)."""
    if target.order_id is not None and orders.referenced(tx, target.order_id)["state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {target.order_id} is cancelled")
    owed = payments.owed(tx, target)
    if currency is not None:
        order_rules.check_currency(
            owed.currency, [currency], "a payment link", of="this job" if target.job_id else "this order"
        )
    if amount is None:
        existing = store.active_balance_link(tx, target.job_id, target.order_id)
        if existing is not None:
            if state_of(tx, existing).status == "active":
                return Opened(existing, created=False)
            store.set_status(tx, existing, "retired")  # paid or expired: no longer the balance link
    payment_rules.check_amount_due(owed.due, amount or 1, owed.currency, owed.in_flight)
    link_id = new_id("plink")
    job_id = target.job_id or orders.load(tx, target.order_id or "")["job_id"]
    store.insert(
        tx,
        job_id,
        id=link_id,
        token=new_token(),
        job_id=target.job_id,
        order_id=target.order_id,
        name=name,
        fixed=int(amount is not None),
        amount=amount,
        currency=owed.currency,
        metadata=orders_store.encode_metadata(metadata or {}),
        expires_at=_expiry(tx, expires_at),
    )
    trail.record(
        tx,
        "payment_link.created",
        actor,
        {
            "paymentLinkId": link_id,
            "jobId": job_id,
            "orderId": target.order_id,
            "name": name,
            "fixed": amount is not None,
            "amountMoney": Money(owed.due if amount is None else amount, owed.currency),
        },
        job_id=job_id,
        order_id=target.order_id,
        client_at=client_at,
    )
    return Opened(load(tx, link_id), created=True)


def create(tx: Tx, actor: Actor, data: CreatePaymentLink, public_url: str) -> Answer[PaymentLink]:
    given = [
        name
        for name, value in (("jobId", data.job_id), ("orderId", data.order_id), ("lineItems", data.line_items))
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidRequest(
            "give exactly one of jobId, orderId and lineItems",
            [FieldError(given[1] if len(given) > 1 else "orderId", "exactly one of jobId, orderId, lineItems")],
        )
    amount = data.amount_money.amount if data.amount_money is not None else None
    if data.line_items is not None:
        if data.amount_money is not None:
            raise InvalidRequest(
                "a link made from lineItems collects their total; amountMoney goes with jobId or orderId",
                [FieldError("amountMoney", "only with jobId or orderId")],
            )
        made = orders.create(tx, actor, CreateOrder(line_items=data.line_items, metadata=data.metadata))
        target, amount = Target(order_id=made.id), made.total_money.amount
    elif data.job_id is not None:
        target = Target(job_id=data.job_id)
    else:
        assert data.order_id is not None
        target = Target(order_id=data.order_id)
    opened = open_link(
        tx,
        actor,
        target,
        name=data.name,
        amount=amount,
        currency=data.amount_money.currency if data.amount_money is not None else None,
        metadata=data.metadata,
        expires_at=data.expires_at,
    )
    return Answer(view(tx, opened.link, public_url), 201 if opened.created else 200)


def cancel(tx: Tx, actor: Actor, link_id: str, public_url: str) -> PaymentLink:
    link = load(tx, link_id)
    state = state_of(tx, link)
    rules.check_cancellable(state.status, link_id)
    if state.status == "cancelled":
        return view(tx, link, public_url)
    if state.in_flight is not None:
        raise RuleViolation("payment_in_progress", "the customer is paying this link right now")
    store.set_status(tx, link, "cancelled")
    trail.record(
        tx,
        "payment_link.cancelled",
        actor,
        {"paymentLinkId": link_id, "orderId": link["order_id"]},
        job_id=link["job_id"],
        order_id=link["order_id"],
    )
    return get(tx, link_id, public_url)


def customer_of(tx: Tx, link: Row) -> str | None:
    """The customer the link's job or order is for."""
    if link["order_id"] is not None:
        customer_id: str | None = orders.load(tx, link["order_id"])["customer_id"]
        return customer_id
    return orders_store.job_customer(tx, link["target_job_id"])


def customer_phone(tx: Tx, link: Row) -> str | None:
    customer_id = customer_of(tx, link)
    customer = customers_store.get(tx, customer_id) if customer_id else None
    return customer["phone"] if customer else None


def text_link(
    tx: Tx,
    actor: Actor,
    link: Row,
    to: str | None,
    public_url: str,
    business: str,
    client_at: str | None = None,
    dedupe_key: str | None = None,
) -> SmsMessage:
    """Queue the text that carries a link, saying what is due now, in the caller's transaction."""
    state = state_of(tx, link)
    rules.check_active(state.status, link["id"])
    to = to or customer_phone(tx, link)
    if not to:
        raise RuleViolation("no_recipient", "the customer has no phone; give `to`")
    body = bodies.payment_request(
        business, link["name"], display(Money(state.amount, link["currency"])), url_of(public_url, link["token"])
    )
    store.texted(tx, link, to)
    return outbox.queue(
        tx,
        actor,
        to=to,
        body=body,
        job_id=link["job_id"],
        order_id=link["order_id"],
        payment_link_id=link["id"],
        dedupe_key=dedupe_key,
        client_at=client_at,
    )


def send_sms(tx: Tx, actor: Actor, link_id: str, to: str | None, public_url: str, business: str) -> SmsMessage:
    return text_link(tx, actor, load(tx, link_id), to, public_url, business)
