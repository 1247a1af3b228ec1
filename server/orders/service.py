"""Orders: line items on a job, and every change to them. What an order and its job owe is kept
by the one ledger (`server.orders.ledger`), moved in the transaction of each change here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

import msgspec

from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation, VersionConflict
from server.ids import new_id
from server.messages import store as messages_store
from server.money import DEFAULT_CURRENCY, Currency, Money
from server.orders import ledger, rules, store
from server.orders.lines import line_item, line_of, shown
from server.orders.types import CreateOrder, LineItemIn, Order, OrderHead, UpdateOrder
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sync import ledger as rule
from sync.limits import MAX_AMOUNT

WORK_STAGE = "work"


def views(tx: Tx, rows: Sequence[Row]) -> list[Order]:
    lines = store.lines_of(tx, [r["id"] for r in rows])
    orders = []
    for row in rows:
        currency, now = row["currency"], ledger.order_now(row)
        orders.append(
            Order(
                id=row["id"],
                version=row["version"],
                state=row["state"],
                customer_id=row["customer_id"],
                job_id=row["job_id"],
                metadata=store.decode_metadata(row["metadata"]),
                line_items=[line_item(line, currency) for line in lines[row["id"]]],
                total_money=Money(now.total, currency),
                paid_money=Money(now.paid, currency),
                refunded_money=Money(now.refunded, currency),
                balance_money=Money(now.balance, currency),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return orders


def rendered(tx: Tx, order_id: str) -> msgspec.Raw:
    """The order as `get` shows it, as JSON, its lines joined from what each already says: what
    the account events carry after every change, at a cost that barely grows with the order."""
    row = load(tx, order_id)
    currency, now = row["currency"], ledger.order_now(row)
    head = OrderHead(
        id=row["id"],
        version=row["version"],
        state=row["state"],
        customer_id=row["customer_id"],
        job_id=row["job_id"],
        metadata=store.decode_metadata(row["metadata"]),
        line_items=msgspec.Raw(store.lines_json(tx, order_id).encode()),
        total_money=Money(now.total, currency),
        paid_money=Money(now.paid, currency),
        refunded_money=Money(now.refunded, currency),
        balance_money=Money(now.balance, currency),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    return msgspec.Raw(_encode_head(head))


_encode_head = msgspec.json.Encoder().encode


def load(tx: Tx, order_id: str) -> Row:
    row = store.get(tx, order_id)
    if row is None:
        raise NotFound(f"no order {order_id}")
    return row


def referenced(tx: Tx, order_id: str) -> Row:
    """An order named in a request body (not the path): a missing one breaks a rule."""
    row = store.get(tx, order_id)
    if row is None:
        raise RuleViolation("unknown_order", f"no order {order_id}")
    return row


def get(tx: Tx, order_id: str) -> Order:
    return views(tx, [load(tx, order_id)])[0]


def list_page(tx: Tx, after: int, limit: int, job_id: str | None, customer_id: str | None) -> Page[Order]:
    return paginate(store.page(tx, after, limit, job_id, customer_id), limit, partial(views, tx))


def _check_version(row: Row, version: int | None) -> None:
    if version is not None and version != row["version"]:
        raise VersionConflict(
            f"order {row['id']} is at version {row['version']}, not {version}", current_version=row["version"]
        )


def new_lines(items: Sequence[LineItemIn], actor: Actor, currency: Currency) -> list[dict[str, Any]]:
    """Rows for new line items. A uid repeated inside the request makes the request malformed;
    one the order already has breaks a rule (the store's unique key says so)."""
    uids = [item.uid for item in items if item.uid is not None]
    if len(uids) != len(set(uids)):
        raise InvalidRequest("two line items share a uid", [FieldError("lineItems", "uids must be unique")])
    new = []
    for index, item in enumerate(items):
        rules.check_client_line(item.kind)
        rules.check_size(rule.line_amount(item.quantity, item.unit_price_money.amount), f"line item {index + 1}")
        line = {
            "uid": item.uid or str(uuid.uuid4()),
            "name": item.name,
            "quantity": item.quantity,
            "unit_amount": item.unit_price_money.amount,
            "kind": item.kind,
            "approval": "pending" if item.approval == "required" else "none",
            "added_by_kind": actor.kind,
            "added_by_id": actor.id,
        }
        new.append({**line, "shown": shown(line, currency)})
    return new


def line_event(order_id: str, line: Row | dict[str, Any], currency: Currency, total: int) -> dict[str, Any]:
    event = {
        "orderId": order_id,
        "uid": line["uid"],
        "name": line["name"],
        "kind": line["kind"],
        "quantity": line["quantity"],
        "unitPriceMoney": Money(line["unit_amount"], currency),
        "orderTotalMoney": Money(total, currency),
    }
    if (approval := line_of(line).approval) != "none":
        event["approval"] = approval  # a change order's line: owed by nobody until approved
    return event


def _check_job_currency(tx: Tx, job_id: str, currency: str) -> None:
    """One currency per job: an order joins a job only in the currency of its other orders."""
    for existing in store.currencies_for_job(tx, job_id):
        rules.check_currency(existing, [currency], "an order", of="this job")


def check_base(row: Row, base: int) -> None:
    """The order's base after a change, against what was paid on it and what Flint can hold."""
    rules.check_new_base(base, row["paid"], row["pending"], row["refunded"], bool(row["deposit"]))


def check_job_total(tx: Tx, row: Row, **changed: Any) -> None:
    """The job's total, were the order changed so, must stay within what Flint can hold. Its
    orders' bases bound it: only near the limit is the rule worked out."""
    if row["job_id"] is None:
        return
    others = sum(max(0, r["base"]) for r in ledger.rows_of(tx, row["job_id"]) if r["id"] != row["id"])
    if others + max(0, changed.get("base", row["base"])) <= MAX_AMOUNT:
        return
    rules.check_size(ledger.preview(tx, row, **changed).total, "the job's total")


def create(tx: Tx, actor: Actor, data: CreateOrder) -> Order:
    metadata = dict(data.metadata or {})
    if data.job_id is not None:
        if metadata.get("jobId", data.job_id) != data.job_id:
            raise InvalidRequest(
                "jobId and metadata.jobId name different jobs", [FieldError("jobId", "differs from metadata.jobId")]
            )
        metadata["jobId"] = data.job_id
    return get(tx, make(tx, actor, data.line_items, metadata, data.customer_id))


def make(
    tx: Tx,
    actor: Actor,
    items: Sequence[LineItemIn],
    metadata: dict[str, str],
    customer_id: str | None = None,
    client_at: str | None = None,
) -> str:
    """A new order with its lines and trail event, the job's figures worked out again; its id."""
    job_id = metadata.get("jobId")
    if customer_id is not None and customers_store.get(tx, customer_id) is None:
        raise RuleViolation("unknown_customer", f"no customer {customer_id}")
    if job_id is not None:
        job_customer = store.job_customer(tx, job_id)
        if job_customer is None:
            raise RuleViolation("unknown_job", f"metadata.jobId names no job: {job_id}")
        customer_id = customer_id or job_customer
    currency = items[0].unit_price_money.currency if items else DEFAULT_CURRENCY
    rules.check_currency(currency, (item.unit_price_money.currency for item in items))
    if job_id is not None:
        _check_job_currency(tx, job_id, currency)
    new = new_lines(items, actor, currency)
    base = rules.base_of(map(line_of, new))
    deposit = rule.is_deposit_stage(metadata.get("paymentStage"))
    if deposit and any(line["approval"] != "none" for line in new):
        raise RuleViolation(
            "deposit_order", "a deposit order asks part of the work early; added work goes on a work order"
        )
    rules.check_new_base(base, 0, 0, 0, deposit)
    order_id = new_id("ord")
    store.insert_order(
        tx, order_id, customer_id=customer_id, job_id=job_id, metadata=metadata, currency=currency, deposit=deposit
    )
    store.insert_lines(tx, order_id, new)
    row = store.get(tx, order_id)
    assert row is not None
    check_job_total(tx, row, base=base)
    ledger.lines_changed(tx, row, base)
    trail.record(
        tx,
        "order.created",
        actor,
        {
            "orderId": order_id,
            "lineItemCount": len(new),
            "totalMoney": Money(base, currency),
            "metadata": metadata,
        },
        job_id=job_id,
        order_id=order_id,
        client_at=client_at,
    )
    ledger.refigure(tx, job_id, row)
    return order_id


def add_line_items(
    tx: Tx,
    actor: Actor,
    order_id: str,
    items: Sequence[LineItemIn],
    version: int | None = None,
    client_at: str | None = None,
) -> Order:
    apply_line_items(tx, actor, load(tx, order_id), items, version, client_at)
    return get(tx, order_id)


def apply_line_items(
    tx: Tx,
    actor: Actor,
    row: Row,
    items: Sequence[LineItemIn],
    version: int | None = None,
    client_at: str | None = None,
) -> None:
    """Add line items to the order in `row`, with their trail events; the caller reads the result."""
    order_id = row["id"]
    _check_version(row, version)
    rules.check_open(row["state"], order_id)
    rules.check_deposit_order_closed_to_lines(bool(row["deposit"]), order_id)
    currency = row["currency"]
    rules.check_currency(currency, (item.unit_price_money.currency for item in items))
    new = new_lines(items, actor, currency)
    change = rules.base_of(map(line_of, new))
    check_base(row, row["base"] + change)
    check_job_total(tx, row, base=row["base"] + change)

    store.insert_lines(tx, order_id, new)
    store.update_order(tx, order_id, row["job_id"])
    ledger.lines_changed(tx, row, change)
    running = row["total"]
    for line in new:
        running += line_of(line).counted
        trail.record(
            tx,
            "order.line_item_added",
            actor,
            line_event(order_id, line, currency, running),
            job_id=row["job_id"],
            order_id=order_id,
            client_at=client_at,
        )
    ledger.refigure(tx, row["job_id"], row)


def add_to_job(tx: Tx, actor: Actor, job_id: str, items: Sequence[LineItemIn], client_at: str | None = None) -> str:
    """Lines for the job's one open work order; a job with none gets one made with them in the same
    transaction, so a job with only a deposit never stops the driveway (contract §7 v3)."""
    work = [r for r in store.for_job(tx, job_id) if not r["deposit"] and r["state"] == "open"]
    if len(work) > 1:
        raise RuleViolation("ambiguous_order", f"job {job_id} has {len(work)} open work orders; name the order")
    if work:
        apply_line_items(tx, actor, work[0], items, client_at=client_at)
        return str(work[0]["id"])
    return make(tx, actor, items, {"jobId": job_id, "paymentStage": WORK_STAGE}, client_at=client_at)


def remove_line_item(
    tx: Tx, actor: Actor, order_id: str, uid: str, version: int | None = None, client_at: str | None = None
) -> Order:
    apply_removal(tx, actor, load(tx, order_id), uid, version, client_at)
    return get(tx, order_id)


def apply_removal(
    tx: Tx, actor: Actor, row: Row, uid: str, version: int | None = None, client_at: str | None = None
) -> None:
    """Remove one line item from the order in `row`, with its trail event."""
    order_id = row["id"]
    _check_version(row, version)
    rules.check_open(row["state"], order_id)
    removed = store.line(tx, order_id, uid)
    if removed is None:
        raise NotFound(f"order {order_id} has no line item {uid}")
    rules.check_client_line(removed["kind"])
    rules.check_removable(line_of(removed).approval, uid)
    change = -line_of(removed).counted
    check_base(row, row["base"] + change)

    store.delete_line(tx, order_id, uid)
    store.update_order(tx, order_id, row["job_id"])
    ledger.lines_changed(tx, row, change)
    trail.record(
        tx,
        "order.line_item_removed",
        actor,
        line_event(order_id, removed, row["currency"], row["total"] + change),
        job_id=row["job_id"],
        order_id=order_id,
        client_at=client_at,
    )
    ledger.refigure(tx, row["job_id"], row)


def update(tx: Tx, actor: Actor, order_id: str, data: UpdateOrder) -> Order:
    row = load(tx, order_id)
    _check_version(row, data.version)
    changes: dict[str, Any] = {}
    job_id = row["job_id"]

    if data.metadata is not None:
        metadata = dict(data.metadata)
        new_job = metadata.get("jobId")
        if new_job != job_id:
            if new_job is not None and store.job_customer(tx, new_job) is None:
                raise RuleViolation("unknown_job", f"metadata.jobId names no job: {new_job}")
            if new_job is not None:
                _check_job_currency(tx, new_job, row["currency"])
            changes["job_id"] = new_job
        changes["metadata"] = store.encode_metadata(metadata)
        deposit = rule.is_deposit_stage(metadata.get("paymentStage"))
        if deposit != bool(row["deposit"]):
            if deposit:
                # A deposit order asks part of the work early: it cannot be paid past what it asks.
                rules.check_new_base(row["base"], row["paid"], row["pending"], row["refunded"], True)
            changes["deposit"] = int(deposit)

    if data.state is not None and data.state != row["state"]:
        now = ledger.order_now(row)
        rules.check_state_change(row["state"], data.state, now.held, row["pending"], order_id)
        changes["state"] = data.state

    if not changes:
        return get(tx, order_id)
    new_job = changes.get("job_id", job_id)
    moved = "job_id" in changes
    if new_job is not None and (moved or "state" in changes):
        joining = store.for_job(tx, new_job)
        rules.check_size(
            rule.figure(
                [ledger.money_of(r) for r in joining if r["id"] != order_id]
                + [ledger.money_of(row, cancelled=changes.get("state", row["state"]) == "cancelled")]
            ).total,
            "the job's total",
        )
    store.update_order(tx, order_id, new_job, moved_from=(job_id or "") if moved else None, **changes)
    if moved:
        messages_store.move_order(tx, order_id, new_job)
    event = {"orderId": order_id, "changes": sorted(c for c in changes if c != "deposit")}
    if "state" in changes:
        trail.record(
            tx,
            "order.state_changed",
            actor,
            {"orderId": order_id, "from": row["state"], "to": data.state},
            job_id=new_job,
            order_id=order_id,
        )
    if "metadata" in changes:
        for affected in {job_id, new_job}:
            trail.record(tx, "order.updated", actor, event, job_id=affected, order_id=order_id)
    # An order that moves leaves its deposit behind: both jobs are worked out again.
    if moved and job_id is not None:
        ledger.refigure(tx, job_id)
    ledger.refigure(tx, new_job, row)
    return get(tx, order_id)
