from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation, VersionConflict
from server.ids import new_id
from server.messages import store as messages_store
from server.money import DEFAULT_CURRENCY, Currency, Money
from server.orders import deposits, rules, store
from server.orders.figures import current_figures, figures_of, job_orders, line_item, line_of, remember_figures
from server.orders.rules import Figures
from server.orders.types import CreateOrder, LineItemIn, Order, UpdateOrder
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sync import ledger


def _new_total(tx: Tx, row: Row, before: Figures, change: int) -> int:
    """The order's total once its lines change by `change` and the job's deposits are applied
    again: never below zero, never below what was paid on it, within what Flint can hold."""
    base = before.base + change
    applied = deposits.applied_after(tx, row, base) if row["job_id"] is not None else 0
    total = rules.check_new_total(base - applied, before)
    if row["job_id"] is not None:
        _check_job_total(tx, row["job_id"], row["id"], total)
    return total


def _check_job_total(tx: Tx, job_id: str, order_id: str, total: int) -> None:
    """The job's total, with this order at `total`, must stay within what Flint can hold."""
    others = sum(
        current_figures(tx, row).total
        for row in job_orders(tx, job_id)
        if row["id"] != order_id and row["state"] != "cancelled"
    )
    rules.check_size(others + total, "the job's total")


def views(tx: Tx, rows: Sequence[Row]) -> list[Order]:
    ids = [r["id"] for r in rows]
    lines = store.lines_of(tx, ids)
    money = store.money_of(tx, ids)
    orders = []
    for row in rows:
        currency, own = row["currency"], lines[row["id"]]
        figures = rules.figures(map(line_of, own), *money[row["id"]])
        orders.append(
            Order(
                id=row["id"],
                version=row["version"],
                state=row["state"],
                customer_id=row["customer_id"],
                job_id=row["job_id"],
                metadata=store.decode_metadata(row["metadata"]),
                line_items=[line_item(line, currency) for line in own],
                total_money=Money(figures.total, currency),
                paid_money=Money(figures.paid, currency),
                refunded_money=Money(figures.refunded, currency),
                balance_money=Money(figures.balance, currency),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return orders


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


def _new_lines(items: Sequence[LineItemIn], actor: Actor) -> list[dict[str, Any]]:
    """Rows for new line items. A uid repeated inside the request makes the request malformed;
    one the order already has breaks a rule (the store's unique key says so)."""
    uids = [item.uid for item in items if item.uid is not None]
    if len(uids) != len(set(uids)):
        raise InvalidRequest("two line items share a uid", [FieldError("lineItems", "uids must be unique")])
    new = []
    for index, item in enumerate(items):
        rules.check_client_line(item.kind)
        rules.check_size(ledger.line_amount(item.quantity, item.unit_price_money.amount), f"line item {index + 1}")
        uid = item.uid or str(uuid.uuid4())
        new.append(
            {
                "uid": uid,
                "name": item.name,
                "quantity": item.quantity,
                "unit_amount": item.unit_price_money.amount,
                "kind": item.kind,
                "added_by_kind": actor.kind,
                "added_by_id": actor.id,
            }
        )
    return new


def _line_event(order_id: str, line: Row | dict[str, Any], currency: Currency, total: int) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "uid": line["uid"],
        "name": line["name"],
        "kind": line["kind"],
        "quantity": line["quantity"],
        "unitPriceMoney": Money(line["unit_amount"], currency),
        "orderTotalMoney": Money(total, currency),
    }


def _check_job_currency(tx: Tx, job_id: str, currency: str) -> None:
    """One currency per job: an order joins a job only in the currency of its other orders."""
    for existing in store.currencies_for_job(tx, job_id):
        rules.check_currency(existing, [currency], "an order", of="this job")


def create(tx: Tx, actor: Actor, data: CreateOrder) -> Order:
    metadata = dict(data.metadata or {})
    job_id = metadata.get("jobId")
    customer_id = data.customer_id
    if customer_id is not None and customers_store.get(tx, customer_id) is None:
        raise RuleViolation("unknown_customer", f"no customer {customer_id}")
    if job_id is not None:
        job_customer = store.job_customer(tx, job_id)
        if job_customer is None:
            raise RuleViolation("unknown_job", f"metadata.jobId names no job: {job_id}")
        customer_id = customer_id or job_customer

    items = data.line_items
    currency = items[0].unit_price_money.currency if items else DEFAULT_CURRENCY
    rules.check_currency(currency, (item.unit_price_money.currency for item in items))
    if job_id is not None:
        _check_job_currency(tx, job_id, currency)
    new = _new_lines(items, actor)
    total = rules.check_new_total(rules.total_of(map(line_of, new)), rules.NO_MONEY)
    order_id = new_id("ord")
    if job_id is not None:
        _check_job_total(tx, job_id, order_id, total)

    store.insert_order(tx, order_id, customer_id=customer_id, job_id=job_id, metadata=metadata, currency=currency)
    store.insert_lines(tx, order_id, new)
    trail.record(
        tx,
        "order.created",
        actor,
        {
            "orderId": order_id,
            "lineItemCount": len(new),
            "totalMoney": Money(total, currency),
            "metadata": metadata,
        },
        job_id=job_id,
        order_id=order_id,
    )
    deposits.rebalance(tx, job_id)
    return get(tx, order_id)


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
    currency = row["currency"]
    rules.check_currency(currency, (item.unit_price_money.currency for item in items))
    new = _new_lines(items, actor)
    before = current_figures(tx, row)
    total = _new_total(tx, row, before, rules.total_of(map(line_of, new)))

    store.insert_lines(tx, order_id, new)
    store.update_order(tx, order_id, row["job_id"])
    remember_figures(tx, order_id, replace(before, total=before.total + rules.total_of(map(line_of, new))))
    running = before.total
    for line in new:
        running += line_of(line).signed_amount
        trail.record(
            tx,
            "order.line_item_added",
            actor,
            _line_event(order_id, line, currency, running),
            job_id=row["job_id"],
            order_id=order_id,
            client_at=client_at,
        )
    deposits.rebalance(tx, row["job_id"])
    assert current_figures(tx, row).total == total


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
    before = current_figures(tx, row)
    total = _new_total(tx, row, before, -line_of(removed).signed_amount)

    store.delete_line(tx, order_id, uid)
    store.update_order(tx, order_id, row["job_id"])
    remember_figures(tx, order_id, replace(before, total=before.total - line_of(removed).signed_amount))
    trail.record(
        tx,
        "order.line_item_removed",
        actor,
        _line_event(order_id, removed, row["currency"], total),
        job_id=row["job_id"],
        order_id=order_id,
        client_at=client_at,
    )
    deposits.rebalance(tx, row["job_id"])


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

    if data.state is not None and data.state != row["state"]:
        rules.check_state_change(row["state"], data.state, figures_of(tx, [row])[order_id], order_id)
        changes["state"] = data.state

    if not changes:
        return get(tx, order_id)
    new_job = changes.get("job_id", job_id)
    moved = "job_id" in changes
    store.update_order(tx, order_id, new_job, moved_from=(job_id or "") if moved else None, **changes)
    if moved:
        messages_store.move_order(tx, order_id, new_job)
    event = {"orderId": order_id, "changes": sorted(changes)}
    if "state" in changes:
        trail.record(
            tx,
            "order.state_changed",
            actor,
            {"orderId": order_id, "from": row["state"], "to": data.state},
            job_id=changes.get("job_id", job_id),
            order_id=order_id,
        )
    if "metadata" in changes:
        for affected in {job_id, changes.get("job_id", job_id)}:
            trail.record(tx, "order.updated", actor, event, job_id=affected, order_id=order_id)
    for affected in {job_id, new_job}:
        deposits.rebalance(tx, affected)
    return get(tx, order_id)


@dataclass(frozen=True, slots=True)
class JobMoney:
    """A job's money: the sums over its orders (a cancelled order owes nothing, so only its
    payments count), the deposit money not applied yet, and each order's figures."""

    figures: Figures
    unapplied: int
    currency: Currency
    orders: list[tuple[Row, Figures]]


def job_money(tx: Tx, job_ids: Sequence[str]) -> dict[str, JobMoney]:
    rows = store.for_jobs(tx, job_ids)
    per_order = figures_of(tx, rows)
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["job_id"], []).append(row)
    found: dict[str, JobMoney] = {}
    for job_id, own in grouped.items():
        total = rules.NO_MONEY
        monies = []
        for row in own:
            figures = per_order[row["id"]]
            cancelled = row["state"] == "cancelled"
            total = total + (Figures(0, figures.paid, figures.refunded) if cancelled else figures)
            monies.append(
                ledger.OrderMoney(
                    id=row["id"],
                    base=figures.base,
                    paid=figures.paid,
                    refunded=figures.refunded,
                    pending=figures.pending,
                    deposit=deposits.is_deposit_order(row),
                    cancelled=cancelled,
                )
            )
        unapplied = ledger.deposit_application(monies).unapplied
        found[job_id] = JobMoney(total, unapplied, own[0]["currency"], [(r, per_order[r["id"]]) for r in own])
    return found
