"""The customer's answers to added work: approving on the page, by a replied code or in person on
the technician's device (checked by hash), and declining. Approving turns the lines `approved`
through the one ledger and writes the approval, the evidence, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from server.approvals import rules, service, store
from server.approvals.service import Evidence
from server.clock import format_time, parse_time
from server.errors import RuleViolation
from server.ids import new_id
from server.messages import service as messages
from server.money import Money, display
from server.orders import decisions, ledger
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor
from sms import bodies


def _check_open(tx: Tx, row: Row) -> tuple[Row, list[Row]]:
    """The request's order and lines, if the request can still be answered."""
    status = rules.status_of(row["status"], row["expires_at"], tx.now)
    if status == "approved":
        raise RuleViolation("already_approved", f"approval request {row['id']} was approved already")
    if status != "pending":
        raise RuleViolation("request_not_pending", f"approval request {row['id']} is {status}")
    order = orders.load(tx, row["order_id"])
    try:
        lines = decisions.pending_lines(tx, order, store.decode_uids(row["line_uids"]))
    except RuleViolation as err:
        raise RuleViolation("approval_stale", f"the work changed since it was asked for: {err.detail}") from None
    if rules.hash_of(lines, order["currency"]) != row["content_hash"]:
        raise RuleViolation("approval_stale", "the lines are not those the customer was asked to approve")
    return order, lines


def approve(tx: Tx, row: Row, evidence: Evidence, actor: Actor) -> str:
    """The customer approves the request's lines; returns the approval's id."""
    order, lines = _check_open(tx, row)
    return _approved(tx, actor, order, lines, row["id"], row["content_hash"], evidence)


def _approved(
    tx: Tx, actor: Actor, order: Row, lines: Sequence[Row], request_id: str, content_hash: str, evidence: Evidence
) -> str:
    uids = [line["uid"] for line in lines]
    currency, total = order["currency"], service.total_of(lines)
    decisions.decide(tx, order, uids, "approved")
    approval_id = new_id("apv")
    store.insert_approval(
        tx,
        id=approval_id,
        approval_request_id=request_id,
        order_id=order["id"],
        job_id=order["job_id"],
        channel=evidence.channel,
        line_uids=store.encode_uids(uids),
        signer_name=evidence.signer_name,
        at=tx.now,
        client_at=evidence.client_at,
        ip=evidence.ip,
        user_agent=evidence.user_agent,
        phone=evidence.phone,
        device_id=evidence.device_id,
        content=rules.content_of(lines, currency),
        content_hash=content_hash,
        total_amount=total,
        currency=currency,
    )
    store.set_request(tx, request_id, status="approved", decided_at=tx.now)
    after = orders_store.get(tx, order["id"])
    assert after is not None
    job = ledger.jobs_money(tx, [order["job_id"]]).get(order["job_id"]) if order["job_id"] else None
    data = {
        "approvalRequestId": request_id,
        "approvalId": approval_id,
        "orderId": order["id"],
        "lineUids": uids,
        "channel": evidence.channel,
        "signerName": evidence.signer_name,
        "totalMoney": Money(total, currency),
        "orderTotalMoney": Money(after["total"], currency),
        "jobTotalMoney": Money(job.total if job is not None else after["total"], currency),
        "contentHash": content_hash,
    }
    trail.record(
        tx,
        "approval.approved",
        actor,
        {key: value for key, value in data.items() if value is not None},
        job_id=order["job_id"],
        order_id=order["id"],
        client_at=evidence.client_at,
    )
    return approval_id


def decline(tx: Tx, row: Row, reason: str | None, actor: Actor) -> None:
    """The customer declines: the lines stay on the order as a record and count in nothing."""
    order, lines = _check_open(tx, row)
    uids = [line["uid"] for line in lines]
    decisions.decide(tx, order, uids, "declined")
    store.set_request(tx, row["id"], status="declined", decline_reason=reason, decided_at=tx.now)
    data = {"approvalRequestId": row["id"], "orderId": order["id"], "lineUids": uids, "reason": reason}
    trail.record(
        tx,
        "approval.declined",
        actor,
        {key: value for key, value in data.items() if value is not None},
        job_id=order["job_id"],
        order_id=order["id"],
    )


def customer_of(tx: Tx, row: Row) -> Actor:
    order = orders_store.get(tx, row["order_id"])
    return Actor(kind="customer", id=order["customer_id"] if order is not None else None)


def in_person(
    tx: Tx,
    actor: Actor,
    order: Row,
    uids: Sequence[str],
    signer_name: str,
    content_hash: str,
    evidence: Evidence,
) -> str:
    """An approval the customer gave in person on the technician's device, perhaps offline: the
    hash of the lines as they are now must be the hash of what the customer saw. Returns the
    request (of channel `device`) it is recorded under."""
    order_rules.check_open(order["state"], order["id"])
    if len(set(uids)) != len(uids):
        raise RuleViolation("invalid_args", "lineUids: a line is named twice")
    try:
        lines = decisions.pending_lines(tx, order, uids)
    except RuleViolation as err:
        raise RuleViolation("approval_stale", f"the lines changed before this approval arrived: {err.detail}") from None
    currency = order["currency"]
    if rules.hash_of(lines, currency) != content_hash:
        raise RuleViolation(
            "approval_stale", "the lines are not what the customer approved (their content hash differs); ask again"
        )
    service.replace_holding(tx, order["id"], uids)
    request_id = new_id("apr")
    store.insert_request(
        tx,
        id=request_id,
        order_id=order["id"],
        line_uids=store.encode_uids(uids),
        channel="device",
        status="pending",
        content_hash=content_hash,
        total_amount=service.total_of(lines),
        currency=currency,
    )
    _approved(tx, actor, order, lines, request_id, content_hash, evidence)
    return request_id


def answer_code(tx: Tx, sender: str, code: str, business: str) -> None:
    """A reply that is a 6-digit code: the open request texted to this number with that code is
    approved; anything else approves nothing and says so, and five wrong codes from a number
    within 24 hours stop its codes working (the page still does)."""
    latest = store.last_texted_to(tx, sender)
    order = orders_store.get(tx, latest["order_id"]) if latest is not None else None
    where = {"job_id": order["job_id"] if order else None, "order_id": order["id"] if order else None}

    def reply(body: str) -> None:
        messages.queue(tx, service.SYSTEM, to=sender, body=body, **where)

    since = format_time(parse_time(tx.now) - rules.VALID_FOR)
    if store.misses_since(tx, sender, since) >= rules.MISSES_ALLOWED:
        reply(bodies.approval_codes_paused(business))
        return
    row = store.pending_with_code(tx, sender, code, tx.now)
    if row is None:
        store.add_miss(tx, sender)
        reply(bodies.approval_code_mismatch(business))
        return
    try:
        with tx.savepoint("approval_code"):
            approve(tx, row, Evidence("sms_code", phone=sender), customer_of(tx, row))
    except RuleViolation:
        reply(bodies.approval_not_possible(business))
        return
    approved = store.get_request(tx, row["id"])
    assert approved is not None
    done = orders_store.get(tx, row["order_id"])
    assert done is not None
    money = ledger.jobs_money(tx, [done["job_id"]]).get(done["job_id"]) if done["job_id"] else None
    currency = row["currency"]
    total = money.total if money is not None else done["total"]
    lines = orders_store.lines_of(tx, [done["id"]])[done["id"]]
    reply(
        bodies.approval_confirmed(
            business,
            service.what_of(tx, done, lines),
            display(Money(row["total_amount"], currency)),
            display(Money(total, currency)),
        )
    )


EXPIRED_KEPT = timedelta(days=2)


def purge_misses(tx: Tx) -> int:
    """Wrong codes older than the window they count in are forgotten."""
    return store.purge_misses(tx, format_time(parse_time(tx.now) - EXPIRED_KEPT))
