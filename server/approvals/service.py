"""Added work the customer approves (contract §8): asking, and reading requests and approvals.
The customer's answers are `answers.py`. A line added with `approval: "required"` waits
(`pending`) and counts in nothing until the customer approves it: on the request's page, by
replying its 6-digit code from the number it was texted to (within 24 hours), or in person on
the technician's device (checked by the hash of the lines when it syncs). Approving turns the
lines `approved` through the one ledger and writes the approval, the evidence, in the same
transaction; nothing half-approved is ever stored."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from server.approvals import rules, store
from server.approvals.types import ApprovalRequest, LinesApproval
from server.clock import format_time, parse_time
from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.jobs import store as jobs_store
from server.messages import service as messages
from server.money import Money, display
from server.orders import decisions, ledger
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.lines import line_item, line_of
from server.orders.rules import Line
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

SYSTEM = Actor(kind="system", id="approvals")


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/approvals/{token}"


def new_token() -> str:
    """192 random bits: the link is the customer's credential for the page."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class Evidence:
    """How an approval happened, as it is recorded."""

    channel: str  # page, sms_code, device
    signer_name: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    phone: str | None = None
    device_id: str | None = None
    client_at: str | None = None


# Reading.


def approval_view(row: Row) -> LinesApproval:
    return LinesApproval(
        id=row["id"],
        order_id=row["order_id"],
        line_uids=store.decode_uids(row["line_uids"]),
        signer_name=row["signer_name"],
        channel=row["channel"],
        at=row["at"],
        content_hash=row["content_hash"],
        total_money=Money(row["total_amount"], row["currency"]),
        ip=row["ip"],
        user_agent=row["user_agent"],
        phone=row["phone"],
        device_id=row["device_id"],
        client_at=row["client_at"],
    )


def _status(tx: Tx, row: Row, held: Sequence[Row], uids: Sequence[str]) -> str:
    """What a request reads now: one whose lines are no longer all waiting (one was removed) can
    approve nothing any more."""
    status = rules.status_of(row["status"], row["expires_at"], tx.now)
    if status == "pending" and (len(held) != len(uids) or any(line["approval"] != "pending" for line in held)):
        return "cancelled"
    return status


def views(tx: Tx, rows: Sequence[Row], public_url: str) -> list[ApprovalRequest]:
    order_ids = list({row["order_id"] for row in rows})
    order_rows = {o["id"]: o for o in orders_store.get_many(tx, order_ids)}
    lines = orders_store.lines_of(tx, order_ids)
    approvals = store.approvals_of_requests(tx, [row["id"] for row in rows])
    found = []
    for row in rows:
        order = order_rows[row["order_id"]]
        uids = store.decode_uids(row["line_uids"])
        by_uid = {line["uid"]: line for line in lines[row["order_id"]]}
        held = [by_uid[uid] for uid in uids if uid in by_uid]
        approval = approvals.get(row["id"])
        found.append(
            ApprovalRequest(
                id=row["id"],
                order_id=row["order_id"],
                job_id=order["job_id"],
                line_uids=uids,
                line_items=[line_item(line, order["currency"]) for line in held],
                status=_status(tx, row, held, uids),  # type: ignore[arg-type]
                channel=row["channel"],
                content_hash=row["content_hash"],
                total_money=Money(row["total_amount"], row["currency"]),
                to=row["to_number"],
                sms_id=row["sms_id"],
                url=url_of(public_url, row["token"]) if row["token"] else None,
                expires_at=row["expires_at"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                decline_reason=row["decline_reason"],
                approval=approval_view(approval) if approval is not None else None,
            )
        )
    return found


def load(tx: Tx, request_id: str) -> Row:
    row = store.get_request(tx, request_id)
    if row is None:
        raise NotFound(f"no approval request {request_id}")
    return row


def get(tx: Tx, request_id: str, public_url: str) -> ApprovalRequest:
    return views(tx, [load(tx, request_id)], public_url)[0]


def list_page(
    tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None, public_url: str
) -> Page[ApprovalRequest]:
    rows = store.requests_page(tx, after, limit, order_id, job_id)
    return paginate(rows, limit, partial(views, tx, public_url=public_url))


def for_jobs(tx: Tx, job_ids: Sequence[str], public_url: str) -> list[ApprovalRequest]:
    return views(tx, store.requests_for_jobs(tx, job_ids), public_url)


# Asking.


def total_of(lines: Sequence[Row]) -> int:
    """What the lines add to their order once approved."""
    return order_rules.base_of(Line(line["quantity"], line["unit_amount"], line["kind"], "approved") for line in lines)


def replace_holding(tx: Tx, order_id: str, uids: Sequence[str]) -> None:
    """A new request (or an approval in person) for a line replaces an open one that holds it:
    its link and code stop working."""
    wanted = set(uids)
    for row in store.pending_for_order(tx, order_id):
        if wanted & set(store.decode_uids(row["line_uids"])):
            store.set_request(tx, row["id"], status="replaced")


def _customer_phone(tx: Tx, order: Row) -> str | None:
    customer = customers_store.get(tx, order["customer_id"]) if order["customer_id"] else None
    return customer["phone"] if customer is not None else None


def what_of(tx: Tx, order: Row, lines: Sequence[Row]) -> str:
    """What the work is for, as a text names it: the job's title, else the order's first line."""
    job = jobs_store.get(tx, order["job_id"]) if order["job_id"] else None
    return str(job["title"]) if job is not None else str(lines[0]["name"])


def ask(
    tx: Tx,
    actor: Actor,
    order: Row,
    uids: Sequence[str] | None,
    to: str | None,
    *,
    public_url: str,
    business: str,
    client_at: str | None = None,
) -> Row:
    """Text the customer a link and a code to approve the order's waiting lines (`uids`: these;
    None: every one). Returns the request."""
    order_rules.check_open(order["state"], order["id"])
    if uids is not None and len(set(uids)) != len(uids):
        raise InvalidRequest("a line is named twice", [FieldError("lineUids", "must be unique")])
    lines = decisions.pending_lines(tx, order, uids)
    if not lines:
        raise RuleViolation("nothing_pending", f"no line of order {order['id']} waits for the customer's approval")
    phone = to or _customer_phone(tx, order)
    if phone is None:
        raise RuleViolation("no_recipient", "the order's customer has no phone; say `to`")
    line_uids = [line["uid"] for line in lines]
    replace_holding(tx, order["id"], line_uids)
    currency, total = order["currency"], total_of(lines)
    job_total = ledger.preview(tx, order, base=order["base"] + total).total
    request_id, token = new_id("apr"), new_token()
    code = rules.new_code(store.codes_in_use(tx, phone, tx.now))
    store.insert_request(
        tx,
        id=request_id,
        order_id=order["id"],
        line_uids=store.encode_uids(line_uids),
        channel="text",
        status="pending",
        content_hash=rules.hash_of(lines, currency),
        total_amount=total,
        currency=currency,
        token=token,
        code=code,
        to_number=phone,
        expires_at=format_time(parse_time(tx.now) + rules.VALID_FOR),
    )
    trail.record(
        tx,
        "approval.requested",
        actor,
        {
            "approvalRequestId": request_id,
            "orderId": order["id"],
            "lineUids": line_uids,
            "totalMoney": Money(total, currency),
            "jobTotalMoney": Money(job_total, currency),
            "to": phone,
        },
        job_id=order["job_id"],
        order_id=order["id"],
        client_at=client_at,
    )
    priced = [(str(line["name"]), display(Money(line_of(line).amount, currency))) for line in lines]
    body = bodies.approval_request(
        business,
        what_of(tx, order, lines),
        priced,
        display(Money(job_total, currency)),
        code,
        url_of(public_url, token),
    )
    message = messages.queue(
        tx, actor, to=phone, body=body, job_id=order["job_id"], order_id=order["id"], client_at=client_at
    )
    store.set_request(tx, request_id, sms_id=message.id)
    row = store.get_request(tx, request_id)
    assert row is not None
    return row


def ask_office(
    tx: Tx, actor: Actor, order_id: str, uids: Sequence[str] | None, to: str | None, public_url: str, business: str
) -> ApprovalRequest:
    row = ask(tx, actor, orders.load(tx, order_id), uids, to, public_url=public_url, business=business)
    return views(tx, [row], public_url)[0]
