"""What each mutation a device pushes does, with the rules that can reject it. Each handler runs
inside its own savepoint in the push's transaction and returns the result's `data`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from server.approvals import answers as approval_answers
from server.approvals import service as approvals
from server.approvals.service import Evidence
from server.errors import NotFound, RuleViolation
from server.jobs import notes
from server.jobs import service as jobs
from server.jobs import store as jobs_store
from server.links import service as links
from server.money import MoneyIn, PositiveMoneyIn
from server.orders import decisions, ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.batch import LineBatch
from server.orders.types import LineItemIn
from server.payments import service as payments
from server.payments.service import Target
from server.payments.types import RecordPayment
from server.store import Row, Tx
from server.wire import Actor
from sync import protocol as p


@dataclass(frozen=True, slots=True)
class Device:
    actor: Actor
    technician_id: str
    public_url: str
    business: str


def job_in_scope(tx: Tx, device: Device, job_id: str) -> Row:
    job = jobs_store.get(tx, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job["technician_id"] != device.technician_id:
        raise RuleViolation("not_assigned", f"job {job_id} is not assigned to this technician")
    if job["status"] == "cancelled":
        raise RuleViolation("job_cancelled", f"job {job_id} was cancelled")
    return job


def order_in_scope(tx: Tx, device: Device, order_id: str) -> Row:
    order = orders_store.get(tx, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    if order["job_id"] is None:
        raise RuleViolation("not_assigned", f"order {order_id} belongs to no job of this technician")
    job_in_scope(tx, device, order["job_id"])
    return order


def set_status(tx: Tx, device: Device, m: p.SetJobStatus) -> None:
    job = job_in_scope(tx, device, m.args.job_id)
    jobs.set_status(tx, device.actor, job, m.args.status, m.client_at)


def add_note(tx: Tx, device: Device, m: p.AddJobNote) -> dict[str, Any]:
    job = job_in_scope(tx, device, m.args.job_id)
    note = notes.add(tx, device.actor, job, m.args.uid, m.args.text, m.client_at)
    return {"noteId": note.id}


def _item(a: p.AddLineItemArgs) -> LineItemIn:
    """The line as the office would add it; one that needs approval waits for the customer."""
    price = MoneyIn(a.unit_price_money.amount, a.unit_price_money.currency)
    return LineItemIn(
        name=a.name,
        quantity=a.quantity,
        unit_price_money=price,
        kind=a.kind,
        uid=a.uid,
        approval="required" if a.needs_approval else None,
    )


def add_line_item(tx: Tx, device: Device, m: p.AddLineItem) -> dict[str, Any] | None:
    """On the order named, or by job on its one open work order (made now if it has none)."""
    a = m.args
    if (a.job_id is None) == (a.order_id is None):
        raise RuleViolation("invalid_args", "give exactly one of jobId and orderId")
    item = _item(a)
    if a.job_id is not None:
        job_in_scope(tx, device, a.job_id)
        return {"orderId": orders.add_to_job(tx, device.actor, a.job_id, [item], client_at=m.client_at)}
    assert a.order_id is not None
    order = order_in_scope(tx, device, a.order_id)
    orders.apply_line_items(tx, device.actor, order, [item], client_at=m.client_at)
    return None


@dataclass(frozen=True, slots=True)
class Held:
    data: dict[str, Any] | None


def batched(tx: Tx, device: Device, m: p.BaseMutation, batch: LineBatch) -> Held | None:
    """An add-on the push's batch takes (checked now, written with the batch), or None for the
    mutation to be applied on its own: anything else, and an add-on by job whose job has no open
    work order (one is made) or several (refused)."""
    if not isinstance(m, p.AddLineItem):
        return None
    a = m.args
    if (a.job_id is None) == (a.order_id is None):
        raise RuleViolation("invalid_args", "give exactly one of jobId and orderId")
    if a.order_id is not None:
        order = batch.seen.get(a.order_id)
        if order is None:  # checked once a batch: nothing the batch holds moves an order's job or state
            order = batch.seen[a.order_id] = order_in_scope(tx, device, a.order_id)
    else:
        assert a.job_id is not None
        job_in_scope(tx, device, a.job_id)
        work = [r for r in ledger.rows_of(tx, a.job_id) if not r["deposit"] and r["state"] == "open"]
        if len(work) != 1:
            return None
        found = orders_store.get(tx, work[0]["id"])
        assert found is not None
        order = found
    batch.add(order, _item(a), m.client_at)
    return Held({"orderId": order["id"]} if a.job_id is not None else None)


def remove_line_item(tx: Tx, device: Device, m: p.RemoveLineItem) -> None:
    order = order_in_scope(tx, device, m.args.order_id)
    orders.apply_removal(tx, device.actor, order, m.args.uid, client_at=m.client_at)


def target_in_scope(tx: Tx, device: Device, job_id: str | None, order_id: str | None) -> tuple[Target, Row]:
    """A job or one of its orders, of this technician's; and the job."""
    if (job_id is None) == (order_id is None):
        raise RuleViolation("invalid_args", "give exactly one of jobId and orderId")
    if order_id is not None:
        order = order_in_scope(tx, device, order_id)
        job = jobs_store.get(tx, order["job_id"])
        assert job is not None
        return Target(order_id=order_id), job
    assert job_id is not None
    return Target(job_id=job_id), job_in_scope(tx, device, job_id)


def text_to_pay(tx: Tx, device: Device, m: p.RequestTextToPay) -> dict[str, Any]:
    """The job's (or order's) balance link, worked out when the customer pays, or a fixed link
    for an amount; and the text that carries it. Nothing due when the server applies it:
    `nothing_due`, so a customer is never texted for money already paid."""
    a = m.args
    target, job = target_in_scope(tx, device, a.job_id, a.order_id)
    link = links.open_link(
        tx,
        device.actor,
        target,
        name=f"Payment for {job['title']}",
        amount=a.amount_money.amount if a.amount_money else None,
        currency=a.amount_money.currency if a.amount_money else None,
        client_at=m.client_at,
    ).link
    message = links.text_link(
        tx,
        device.actor,
        link,
        a.to,
        device.public_url,
        device.business,
        m.client_at,
        dedupe_key=f"ttp:{a.uid}",
    )
    return {"paymentLinkId": link["id"], "smsId": message.id}


def record_payment(tx: Tx, device: Device, m: p.RecordOfflinePayment) -> dict[str, Any]:
    a = m.args
    target_in_scope(tx, device, a.job_id, a.order_id)
    if payments.charge_by_uid(tx, a.uid) is not None:
        raise RuleViolation("duplicate_uid", f"a payment with uid {a.uid} already exists")
    amount = PositiveMoneyIn(a.amount_money.amount, a.amount_money.currency)
    data = RecordPayment(
        job_id=a.job_id, order_id=a.order_id, amount_money=amount, method=a.method, reference=a.reference
    )
    payment = payments.record_offline(
        tx, device.actor, data, business=device.business, source="device", uid=a.uid, client_at=m.client_at
    )
    return {"paymentId": payment.id}


def request_approval(tx: Tx, device: Device, m: p.RequestApproval) -> dict[str, Any]:
    """By order, or by job: one request for each open order of the job with lines waiting."""
    a = m.args
    if (a.job_id is None) == (a.order_id is None):
        raise RuleViolation("invalid_args", "give exactly one of jobId and orderId")
    if a.order_id is not None:
        asked = [(order_in_scope(tx, device, a.order_id), a.line_uids)]
    else:
        assert a.job_id is not None
        job_in_scope(tx, device, a.job_id)
        asked = _waiting_by_order(tx, a.job_id, a.line_uids)
    made = [
        approvals.ask(
            tx, device.actor, order, uids, a.to, public_url=device.public_url, business=device.business,
            client_at=m.client_at,
        )
        for order, uids in asked
    ]  # fmt: skip
    return {"approvalRequestIds": [row["id"] for row in made], "smsIds": [row["sms_id"] for row in made]}


def _waiting_by_order(tx: Tx, job_id: str, uids: list[str] | None) -> list[tuple[Row, list[str] | None]]:
    """The job's open orders with lines waiting for approval (of `uids`, if named), oldest first."""
    found: list[tuple[Row, list[str] | None]] = []
    named = set(uids or [])
    for order in orders_store.for_job(tx, job_id):
        if order["state"] != "open":
            continue
        waiting = [line["uid"] for line in decisions.pending_lines(tx, order)]
        if uids is not None:
            waiting = [uid for uid in waiting if uid in named]
            named -= set(waiting)
        if waiting:
            found.append((order, waiting))
    if named:
        raise RuleViolation("unknown_line", f"no line {sorted(named)[0]} of job {job_id} waits for approval")
    if not found:
        raise RuleViolation("nothing_pending", f"no line of job {job_id} waits for the customer's approval")
    return found


def record_approval(tx: Tx, device: Device, m: p.RecordApproval) -> dict[str, Any]:
    """An approval taken in person, perhaps offline: the lines' hash now must be the one the
    customer saw (else `approval_stale`, and they stay pending)."""
    a = m.args
    order = order_in_scope(tx, device, a.order_id)
    evidence = Evidence("device", a.signer_name, device_id=device.actor.id, client_at=m.client_at)
    request_id = approval_answers.in_person(
        tx, device.actor, order, a.line_uids, a.signer_name, a.content_hash, evidence
    )
    return {"approvalRequestId": request_id}


HANDLERS: dict[type[p.BaseMutation], Callable[[Tx, Device, Any], dict[str, Any] | None]] = {
    p.SetJobStatus: set_status,
    p.AddJobNote: add_note,
    p.AddLineItem: add_line_item,
    p.RemoveLineItem: remove_line_item,
    p.RequestTextToPay: text_to_pay,
    p.RecordOfflinePayment: record_payment,
    p.RequestApproval: request_approval,
    p.RecordApproval: record_approval,
}


def job_of(tx: Tx, raw: bytes, device: Device) -> str | None:
    """The job a rejected mutation is about, for its trail: read loosely, since a rejected
    mutation may be malformed, and only a job of this technician's (a device never writes into
    another technician's trail, contract §7)."""
    try:
        loose = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    args = loose.get("args") if isinstance(loose, dict) else None
    if not isinstance(args, dict):
        return None
    job_id, order_id = args.get("jobId"), args.get("orderId")
    if not isinstance(job_id, str):
        order = orders_store.get(tx, order_id) if isinstance(order_id, str) else None
        job_id = order["job_id"] if order is not None else None
    job = jobs_store.get(tx, job_id) if isinstance(job_id, str) else None
    return job["id"] if job is not None and job["technician_id"] == device.technician_id else None
