"""Giving money back, one payment (a charge's part on one order) at a time: checked and reserved
as `pending` first, given back by the processor for cards, then completed with its trail event."""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import NotFound, RuleViolation
from server.ids import new_id
from server.money import Money
from server.orders import deposits
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.payments import rules, store
from server.payments.types import CreateRefund, Refund
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.trail import service as trail
from server.wire import Actor


def load_payment(tx: Tx, payment_id: str) -> Row:
    row = store.get(tx, payment_id)
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    return row


@dataclass(frozen=True, slots=True)
class RefundPlan:
    refund_id: str
    payment_id: str
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
    payment = load_payment(tx, refund["payment_id"])
    charge = payment["processor_ref"] if payment["method"] == "card" else None
    return RefundPlan(
        refund["id"], refund["payment_id"], refund["status"], charge, Money(refund["amount"], refund["currency"])
    )


def plan_of(tx: Tx, refund_id: str) -> RefundPlan:
    return _plan_of(tx, store.get_refund(tx, refund_id))


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
    payment = load_payment(tx, refund["payment_id"])
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
            "chargeId": payment["charge_id"],
            "orderId": refund["order_id"],
            "amountMoney": Money(refund["amount"], refund["currency"]),
            "reason": refund["reason"],
        },
        job_id=order["job_id"],
        order_id=order["id"],
    )
    deposits.lower_deposit(tx, order, refund["amount"])
    deposits.rebalance(tx, order["job_id"])
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
