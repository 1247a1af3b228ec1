"""Giving money back, one payment (a charge's part on one order) at a time: checked and reserved
as `pending` first, given back by the processor for cards, then completed with its trail event."""

from __future__ import annotations

from dataclasses import dataclass

from server.clock import parse_time
from server.errors import NotFound, RuleViolation
from server.ids import new_id
from server.messages import service as messages
from server.money import Money, display
from server.orders import ledger
from server.orders import rules as order_rules
from server.orders import service as orders
from server.payments import rules, store
from server.payments import service as payments
from server.payments.types import CreateRefund, Refund
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.trail import service as trail
from server.web.idempotency import KEEP_FOR, IdempotencyKey
from server.wire import Actor
from sms import bodies


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
    reference: str | None = None  # the processor's refund, once it said it gave the money back


def plan_refund(tx: Tx, data: CreateRefund, key: IdempotencyKey | None = None) -> RefundPlan:
    """Check the refund and reserve it as `pending`, so no second refund can take the same money.

    A retried request (the same `Idempotency-Key` and body within the key's 7 days) gets the
    refund it already reserved back, so a crash between reserving and completing never gives
    the money back twice; the same key with another body is refused.
    """
    request_key = f"{key.scope}:{key.key}" if key is not None else None
    earlier = store.refund_by_request_key(tx, request_key) if request_key is not None else None
    if earlier is not None and parse_time(earlier["created_at"]) + KEEP_FOR <= parse_time(tx.now):
        store.forget_request_key(tx, earlier["id"])
        earlier = None
    if earlier is not None and key is not None and earlier["request_hash"] != key.request_hash:
        raise RuleViolation("idempotency_key_reused", "this Idempotency-Key was already used with a different request")
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
        request_hash=key.request_hash if key is not None else None,
    )
    return _plan_of(tx, store.get_refund(tx, refund_id))


def _plan_of(tx: Tx, refund: Row | None) -> RefundPlan:
    assert refund is not None
    payment = load_payment(tx, refund["payment_id"])
    charge = payment["processor_ref"] if payment["method"] == "card" else None
    return RefundPlan(
        refund["id"],
        refund["payment_id"],
        refund["status"],
        charge,
        Money(refund["amount"], refund["currency"]),
        refund["processor_ref"],
    )


def plan_of(tx: Tx, refund_id: str) -> RefundPlan:
    return _plan_of(tx, store.get_refund(tx, refund_id))


def pending_refunds(tx: Tx) -> list[RefundPlan]:
    return [_plan_of(tx, row) for row in store.refunds_in_status(tx, "pending")]


def note_processor_ref(tx: Tx, refund_id: str, processor_ref: str) -> None:
    """Never moves a refund back to pending: one completed meanwhile (the settling run and the
    request that asked for it can both have asked the processor) must not be completed twice."""
    store.note_refund_ref(tx, refund_id, processor_ref)


def complete_refund(tx: Tx, actor: Actor, refund_id: str, business: str) -> Refund:
    """The money is given back: the refund, its trail event, the job worked out again (a deposit
    refunded shows as `Deposit refunded` and the job's balance rises by it), a text to the customer."""
    refund = store.get_refund(tx, refund_id)
    assert refund is not None
    if refund["status"] != "pending":
        return to_refund(refund)
    order = orders.load(tx, refund["order_id"])
    payment = load_payment(tx, refund["payment_id"])
    store.set_refund_status(tx, refund_id, "completed")
    store.touch_payment(tx, refund["payment_id"], order["job_id"])
    ledger.money_moved(tx, order["id"], order["job_id"], refunded=refund["amount"])
    ledger.refigure(tx, order["job_id"], order)
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
    _text_refund(tx, refund, order, business)
    return get_refund(tx, refund_id)


def _text_refund(tx: Tx, refund: Row, order: Row, business: str) -> None:
    to = payments.customer_phone(tx, order)
    if not to:
        return
    what, still = payments.owed_after(tx, order["job_id"], order["id"])
    currency = refund["currency"]
    messages.queue(
        tx,
        messages.SYSTEM,
        to=to,
        body=bodies.refund(
            business,
            display(Money(refund["amount"], currency)),
            what,
            display(Money(still, currency)) if still else None,
        ),
        job_id=order["job_id"],
        order_id=order["id"],
        dedupe_key=f"refund:{refund['id']}",
    )


def fail_refund(tx: Tx, refund_id: str) -> None:
    """A definite no from the processor, for a refund still pending (never one completed meanwhile)."""
    refund = store.get_refund(tx, refund_id)
    if refund is not None and refund["status"] == "pending":
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
