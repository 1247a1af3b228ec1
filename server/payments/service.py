from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from server.errors import NotFound, RuleViolation
from server.ids import new_id
from server.money import Money
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.payments import rules, store
from server.payments.types import Card, CreateRefund, Payment, RecordPayment, Refund
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.trail import service as trail
from server.wire import Actor


def views(tx: Tx, rows: Sequence[Row]) -> list[Payment]:
    refunded = store.refunded(tx, [r["id"] for r in rows])
    return [
        Payment(
            id=row["id"],
            order_id=row["order_id"],
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


def load(tx: Tx, payment_id: str) -> Row:
    row = store.get(tx, payment_id)
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    return row


def get(tx: Tx, payment_id: str) -> Payment:
    return views(tx, [load(tx, payment_id)])[0]


def list_page(tx: Tx, after: int, limit: int, order_id: str | None) -> Page[Payment]:
    return paginate(store.page(tx, after, limit, order_id), limit, partial(views, tx))


def payment_event(row: dict[str, Any] | Row) -> dict[str, Any]:
    event: dict[str, Any] = {
        "paymentId": row["id"],
        "orderId": row["order_id"],
        "amountMoney": Money(row["amount"], row["currency"]),
        "method": row["method"],
    }
    if row["card_last4"]:
        event["card"] = Card(brand=row["card_brand"], last4=row["card_last4"])
    if row["payment_link_id"]:
        event["paymentLinkId"] = row["payment_link_id"]
    if row["decline_code"]:
        event["declineCode"] = row["decline_code"]
    if row["reference"]:
        event["reference"] = row["reference"]
    return event


def record(tx: Tx, actor: Actor, order: Row, client_at: str | None = None, **fields: Any) -> Payment:
    """Insert a payment on `order` and its trail event, in the caller's transaction."""
    row: dict[str, Any] = {
        "id": new_id("pay"),
        "order_id": order["id"],
        "currency": order["currency"],
        "card_brand": None,
        "card_last4": None,
        "decline_code": None,
        "payment_link_id": None,
        "reference": None,
        **fields,
    }
    store.insert(tx, order["job_id"], **row)
    orders_store.touch_order(tx, order["id"], order["job_id"])
    if row["status"] != "pending":
        record_event(tx, actor, order, row, client_at)
    return get(tx, row["id"])


def settle(tx: Tx, actor: Actor, order: Row, payment_id: str, **fields: Any) -> Payment:
    """A card payment in flight becomes captured or declined, with its trail event."""
    store.settle(tx, payment_id, order["job_id"], **fields)
    orders_store.touch_order(tx, order["id"], order["job_id"])
    record_event(tx, actor, order, load(tx, payment_id))
    return get(tx, payment_id)


def record_event(tx: Tx, actor: Actor, order: Row, payment: Row | dict[str, Any], client_at: str | None = None) -> None:
    if payment["status"] == "declined":
        kind = "payment.declined"
    else:
        kind = "payment.captured" if payment["method"] == "card" else "payment.recorded"
    trail.record(
        tx,
        kind,
        actor,
        payment_event(payment),
        job_id=order["job_id"],
        order_id=order["id"],
        client_at=client_at,
    )


def record_offline(
    tx: Tx,
    actor: Actor,
    data: RecordPayment,
    *,
    source: str = "office",
    uid: str | None = None,
    client_at: str | None = None,
) -> Payment:
    """Cash or check taken by the office or on site."""
    order = orders.referenced(tx, data.order_id)
    if order["state"] == "cancelled":
        raise RuleViolation("order_closed", f"order {order['id']} is cancelled")
    order_rules.check_currency(order["currency"], [data.amount_money.currency], "a payment")
    rules.check_amount_due(orders.figures_of(tx, [order])[order["id"]], data.amount_money.amount, order["currency"])
    return record(
        tx,
        actor,
        order,
        client_at=client_at,
        amount=data.amount_money.amount,
        status="captured",
        method=data.method,
        source=source,
        reference=data.reference,
        uid=uid,
    )


# Refunds: checked and reserved (pending) first, given back by the processor for cards, then completed.


@dataclass(frozen=True, slots=True)
class RefundPlan:
    refund_id: str
    status: str
    charge_reference: str | None
    amount: Money


def plan_refund(tx: Tx, data: CreateRefund, request_key: str | None = None) -> RefundPlan:
    """Check the refund and reserve it as `pending`, so no second refund can take the same money.

    A retried request (same `request_key`) gets the refund it already reserved back, so a crash
    between reserving and completing never gives the money back twice.
    """
    earlier = store.refund_by_request_key(tx, request_key) if request_key is not None else None
    if earlier is not None and earlier["status"] != "failed":
        return _plan_of(tx, earlier)
    payment = store.get(tx, data.payment_id)
    if payment is None:
        raise RuleViolation("unknown_payment", f"no payment {data.payment_id}")
    order_rules.check_currency(payment["currency"], [data.amount_money.currency], "a refund", of="this payment")
    given_back = store.refunded(tx, [payment["id"]], with_pending=True)[payment["id"]]
    rules.check_refundable(
        payment["status"], data.amount_money.amount, payment["amount"], given_back, payment["currency"]
    )
    if earlier is not None:
        # The processor refused this request's first try; it is tried again under the same id.
        store.set_refund_status(tx, earlier["id"], "pending")
        return _plan_of(tx, store.get_refund(tx, earlier["id"]))
    refund_id = new_id("ref")
    store.insert_refund(
        tx,
        id=refund_id,
        payment_id=payment["id"],
        order_id=payment["order_id"],
        amount=data.amount_money.amount,
        currency=payment["currency"],
        reason=data.reason,
        status="pending",
        request_key=request_key,
    )
    return _plan_of(tx, store.get_refund(tx, refund_id))


def _plan_of(tx: Tx, refund: Row | None) -> RefundPlan:
    assert refund is not None
    payment = load(tx, refund["payment_id"])
    charge = payment["processor_ref"] if payment["method"] == "card" else None
    return RefundPlan(refund["id"], refund["status"], charge, Money(refund["amount"], refund["currency"]))


def pending_refunds(tx: Tx) -> list[RefundPlan]:
    return [_plan_of(tx, row) for row in store.refunds_in_status(tx, "pending")]


def note_processor_ref(tx: Tx, refund_id: str, processor_ref: str) -> None:
    store.set_refund_status(tx, refund_id, "pending", processor_ref)


def complete_refund(tx: Tx, actor: Actor, refund_id: str) -> Refund:
    refund = store.get_refund(tx, refund_id)
    assert refund is not None
    if refund["status"] != "pending":
        return to_refund(refund)
    order = orders.load(tx, refund["order_id"])
    store.set_refund_status(tx, refund_id, "completed")
    store.touch_payment(tx, refund["payment_id"], order["job_id"])
    orders_store.touch_order(tx, order["id"], order["job_id"])
    trail.record(
        tx,
        "refund.created",
        actor,
        {
            "refundId": refund_id,
            "paymentId": refund["payment_id"],
            "orderId": refund["order_id"],
            "amountMoney": Money(refund["amount"], refund["currency"]),
            "reason": refund["reason"],
        },
        job_id=order["job_id"],
        order_id=order["id"],
    )
    return get_refund(tx, refund_id)


def fail_refund(tx: Tx, refund_id: str) -> None:
    store.set_refund_status(tx, refund_id, "failed")


def to_refund(row: Row) -> Refund:
    return Refund(
        id=row["id"],
        payment_id=row["payment_id"],
        order_id=row["order_id"],
        amount_money=Money(row["amount"], row["currency"]),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
    )


def get_refund(tx: Tx, refund_id: str) -> Refund:
    row = store.get_refund(tx, refund_id)
    if row is None:
        raise NotFound(f"no refund {refund_id}")
    return to_refund(row)


def refunds_page(tx: Tx, after: int, limit: int, payment_id: str | None) -> Page[Refund]:
    return paginate(store.refunds_page(tx, after, limit, payment_id), limit, each(to_refund))
