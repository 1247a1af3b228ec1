"""The customer's answer on an estimate's page: approving (with its deposit, as one act: the
approval, the job's work order and the deposit's payment on it in one transaction, the one that
settles the capture when a deposit is taken), declining; the first look; expiry."""

from __future__ import annotations

from dataclasses import dataclass

from server.approvals import store as approvals_store
from server.errors import RuleViolation
from server.estimates import rules, service, store
from server.estimates.rules import Choice
from server.ids import new_id
from server.jobs import store as jobs_store
from server.money import Money, MoneyIn
from server.orders import ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import LineItemIn
from server.payments import service as payments
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor


def customer_of(tx: Tx, row: Row) -> Actor:
    job = jobs_store.get(tx, row["job_id"])
    return Actor(kind="customer", id=job["customer_id"] if job is not None else None)


def kept(tx: Tx, row: Row) -> int:
    """What the job keeps on its deposit orders now (the one ledger's figure)."""
    return ledger.kept_on_deposits(tx, row["job_id"])


def deposit_for(tx: Tx, row: Row, choice: Choice) -> int:
    return rules.deposit_due(choice.total, row["deposit_percentage"], row["deposit_amount"], kept(tx, row))


def check_answerable(tx: Tx, row: Row) -> None:
    """The customer can approve or decline: the estimate is open, not past its expiry, and no
    approval with a deposit is being confirmed."""
    state = rules.state_of(row["state"], row["expires_at"], tx.now)
    if state == "approved":
        raise AlreadyApproved(row["id"])
    if state != "open":
        raise RuleViolation(f"estimate_{state}" if state in ("expired", "declined", "voided") else "estimate_not_open",
                            f"estimate {row['id']} is {state}")  # fmt: skip
    if store.charge_in_flight(tx, row["id"]) is not None:
        raise InFlight(row["id"])


class AlreadyApproved(RuleViolation):
    status = 409

    def __init__(self, estimate_id: str) -> None:
        super().__init__("estimate_approved", f"estimate {estimate_id} was approved already")


class InFlight(RuleViolation):
    def __init__(self, estimate_id: str) -> None:
        super().__init__("estimate_payment_in_flight", f"a deposit on estimate {estimate_id} is being confirmed")


@dataclass(frozen=True, slots=True)
class Signature:
    signer_name: str
    ip: str | None
    user_agent: str | None
    at: str | None = None  # when the customer signed (None: now)


def approve(
    tx: Tx, row: Row, choice: Choice, signature: Signature, deposit: int, charge_id: str | None, actor: Actor
) -> str:
    """In one transaction: the job's work order with the chosen lines (money the job keeps on
    deposit orders applied to it by the one ledger), the deposit's payment on it, the approval
    record and the estimate approved. Returns the approval's id."""
    currency = row["currency"]
    items = [
        LineItemIn(
            name=line.name,
            quantity=line.quantity,
            unit_price_money=MoneyIn(line.unit_amount, currency),
            kind=line.kind,  # type: ignore[arg-type]
            uid=line.uid,
        )
        for line in choice.lines
    ]
    metadata = {"jobId": row["job_id"], "estimateId": row["id"], "paymentStage": service.WORK_STAGE}
    order_id = orders.make(tx, actor, items, metadata)
    order = orders_store.get(tx, order_id)
    assert order is not None
    payment_id = payments.apply_ahead(tx, charge_id, order) if charge_id is not None else None
    approval_id = new_id("apv")
    approvals_store.insert_approval(
        tx,
        id=approval_id,
        estimate_id=row["id"],
        order_id=order_id,
        job_id=row["job_id"],
        channel="page",
        option_id=choice.option.id,
        optional_uids=approvals_store.encode_uids(choice.optional_uids),
        line_uids=approvals_store.encode_uids([line.uid for line in choice.lines]),
        signer_name=signature.signer_name,
        at=signature.at or tx.now,
        ip=signature.ip,
        user_agent=signature.user_agent,
        content=row["content"],
        content_hash=row["content_hash"],
        total_amount=choice.total,
        deposit_amount=deposit,
        currency=currency,
        payment_id=payment_id,
        charge_id=charge_id,
    )
    store.update(tx, row["id"], state="approved", decided_at=tx.now)
    data = {
        "estimateId": row["id"],
        "number": row["number"],
        "approvalId": approval_id,
        "optionId": choice.option.id,
        "optionName": choice.option.name,
        "optionalUids": choice.optional_uids,
        "orderId": order_id,
        "paymentId": payment_id,
        "totalMoney": Money(choice.total, currency),
        "depositMoney": Money(deposit, currency),
        "signerName": signature.signer_name,
        "contentHash": row["content_hash"],
    }
    trail.record(
        tx,
        "estimate.approved",
        actor,
        {key: value for key, value in data.items() if value is not None},
        job_id=row["job_id"],
        order_id=order_id,
    )
    return approval_id


def complete(tx: Tx, charge: Row, actor: Actor) -> None:
    """Settling a deposit charge (`payments.Completion` for source `estimate`), in the settling
    transaction: captured, the approval it was reserved for is made now with it; declined,
    nothing is (the trail says `payment.declined` with the estimate's id, and no order is left)."""
    if charge["status"] != "captured":
        return
    attempt = store.attempt(tx, charge["id"])
    assert attempt is not None, f"deposit charge {charge['id']} was reserved without its approval"
    row = service.load(tx, attempt["estimate_id"])
    if row["state"] not in (
        "open",
        "expired",
    ):  # guarded: nothing voids or approves an estimate while a deposit is in flight
        raise RuntimeError(f"estimate {row['id']} is {row['state']} with deposit charge {charge['id']} captured")
    choice = rules.choose(service.options_of(row), attempt["option_id"], store.decode_uids(attempt["optional_uids"]))
    # Signed when the charge was reserved: the settling may come later (the processor was slow,
    # or the server died and the scheduler settles it).
    signature = Signature(attempt["signer_name"], attempt["ip"], attempt["user_agent"], attempt["created_at"])
    approve(tx, row, choice, signature, attempt["deposit_amount"], charge["id"], customer_of(tx, row))


def decline(tx: Tx, row: Row, reason: str | None) -> None:
    check_answerable(tx, row)
    store.update(tx, row["id"], state="declined", decline_reason=reason, decided_at=tx.now)
    data = {"estimateId": row["id"], "number": row["number"], "reason": reason}
    trail.record(
        tx,
        "estimate.declined",
        customer_of(tx, row),
        {key: value for key, value in data.items() if value is not None},
        job_id=row["job_id"],
    )


def viewed(tx: Tx, row: Row) -> None:
    """The customer's first look at an open estimate's page."""
    if row["viewed_at"] is not None or rules.state_of(row["state"], row["expires_at"], tx.now) != "open":
        return
    store.update(tx, row["id"], viewed_at=tx.now)
    trail.record(
        tx,
        "estimate.viewed",
        customer_of(tx, row),
        {"estimateId": row["id"], "number": row["number"]},
        job_id=row["job_id"],
    )


def expire_due(tx: Tx) -> int:
    """Open estimates past their expiry are marked expired, each with its trail event (one whose
    deposit is being confirmed waits for it: the customer approved in time)."""
    expired = 0
    for row in store.open_past(tx, tx.now):
        if store.charge_in_flight(tx, row["id"]) is not None:
            continue
        store.update(tx, row["id"], state="expired")
        trail.record(
            tx,
            "estimate.expired",
            service.SYSTEM,
            {"estimateId": row["id"], "number": row["number"], "expiresAt": row["expires_at"]},
            job_id=row["job_id"],
        )
        expired += 1
    return expired
