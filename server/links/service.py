from __future__ import annotations

import secrets
from collections.abc import Sequence
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
from server.payments import store as payments_store
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

DEFAULT_LIFETIME = timedelta(days=30)


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/pay/{token}"


def new_token() -> str:
    """192 random bits; the token is the customer's only credential, so it is not the id."""
    return secrets.token_urlsafe(24)


def views(tx: Tx, rows: Sequence[Row], public_url: str) -> list[PaymentLink]:
    return [
        PaymentLink(
            id=row["id"],
            order_id=row["order_id"],
            name=row["name"],
            amount_money=Money(row["amount"], row["currency"]),
            url=url_of(public_url, row["token"]),
            status=rules.status_at(row["status"], row["expires_at"], tx.now),  # type: ignore[arg-type]
            expires_at=row["expires_at"],
            metadata=orders_store.decode_metadata(row["metadata"]),
            payment_id=row["payment_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]


def load(tx: Tx, link_id: str) -> Row:
    row = store.get(tx, link_id)
    if row is None:
        raise NotFound(f"no payment link {link_id}")
    return row


def get(tx: Tx, link_id: str, public_url: str) -> PaymentLink:
    return views(tx, [load(tx, link_id)], public_url)[0]


def list_page(tx: Tx, after: int, limit: int, order_id: str | None, public_url: str) -> Page[PaymentLink]:
    return paginate(store.page(tx, after, limit, order_id), limit, partial(views, tx, public_url=public_url))


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


def open_link(
    tx: Tx,
    actor: Actor,
    order: Row,
    *,
    name: str,
    amount: int | None,
    currency: str | None = None,
    metadata: dict[str, str] | None = None,
    expires_at: str | None = None,
    client_at: str | None = None,
) -> Row:
    """A link for `amount` (default: the balance now) on an order that can take it."""
    if order["state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {order['id']} is cancelled")
    if currency is not None:
        order_rules.check_currency(order["currency"], [currency], "a payment link")
    figures = orders.figures_of(tx, [order])[order["id"]]
    amount = figures.collectible if amount is None else amount
    payment_rules.check_amount_due(figures, max(amount, 1), order["currency"])
    link_id = new_id("plink")
    store.insert(
        tx,
        order["job_id"],
        id=link_id,
        token=new_token(),
        order_id=order["id"],
        name=name,
        amount=amount,
        currency=order["currency"],
        metadata=orders_store.encode_metadata(metadata or {}),
        expires_at=_expiry(tx, expires_at),
    )
    trail.record(
        tx,
        "payment_link.created",
        actor,
        {
            "paymentLinkId": link_id,
            "orderId": order["id"],
            "name": name,
            "amountMoney": Money(amount, order["currency"]),
        },
        job_id=order["job_id"],
        order_id=order["id"],
        client_at=client_at,
    )
    return load(tx, link_id)


def create(tx: Tx, actor: Actor, data: CreatePaymentLink, public_url: str) -> PaymentLink:
    if (data.order_id is None) == (data.line_items is None):
        raise InvalidRequest(
            "give exactly one of orderId and lineItems",
            [FieldError("orderId", "exactly one of orderId, lineItems")],
        )
    if data.line_items is not None:
        if data.amount_money is not None:
            raise InvalidRequest(
                "a link made from lineItems collects their total; amountMoney goes with orderId",
                [FieldError("amountMoney", "only with orderId")],
            )
        made = orders.create(tx, actor, CreateOrder(line_items=data.line_items, metadata=data.metadata))
        order = orders.load(tx, made.id)
        amount = None
    else:
        assert data.order_id is not None
        order = orders.referenced(tx, data.order_id)
        amount = data.amount_money.amount if data.amount_money is not None else None
    link = open_link(
        tx,
        actor,
        order,
        name=data.name,
        amount=amount,
        currency=data.amount_money.currency if data.amount_money is not None else None,
        metadata=data.metadata,
        expires_at=data.expires_at,
    )
    return views(tx, [link], public_url)[0]


def cancel(tx: Tx, actor: Actor, link_id: str, public_url: str) -> PaymentLink:
    link = load(tx, link_id)
    status = rules.status_at(link["status"], link["expires_at"], tx.now)
    rules.check_cancellable(status, link_id)
    if status == "cancelled":
        return views(tx, [link], public_url)[0]
    if payments_store.pending_for_link(tx, link_id) is not None:
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
    """Queue the text that carries a link, in the caller's transaction."""
    status = rules.status_at(link["status"], link["expires_at"], tx.now)
    if status != "active":
        raise RuleViolation("payment_link_not_active", f"payment link {link['id']} is {status}")
    if to is None:
        order = orders.load(tx, link["order_id"])
        customer = customers_store.get(tx, order["customer_id"]) if order["customer_id"] else None
        to = customer["phone"] if customer else None
    if not to:
        raise RuleViolation("no_recipient", "the order has no customer phone; give `to`")
    body = bodies.payment_request(
        business,
        link["name"],
        display(Money(link["amount"], link["currency"])),
        url_of(public_url, link["token"]),
    )
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
