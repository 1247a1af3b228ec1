"""Each order's money figures as a transaction sees them: made once from its lines and the
payments taken against it, then carried forward as the transaction changes them, so a push of
many mutations to one order never reads every line again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.money import Currency, Money
from server.orders import rules, store
from server.orders.rules import Figures, Line
from server.orders.types import LineItem
from server.store import Row, Tx
from server.wire import Actor


def line_of(row: Row | dict[str, Any]) -> Line:
    return Line(quantity=row["quantity"], unit_amount=row["unit_amount"], kind=row["kind"])


def line_item(row: Row, currency: Currency) -> LineItem:
    return LineItem(
        uid=row["uid"],
        name=row["name"],
        quantity=row["quantity"],
        unit_price_money=Money(row["unit_amount"], currency),
        kind=row["kind"],
        total_money=Money(line_of(row).amount, currency),
        added_by=Actor(kind=row["added_by_kind"], id=row["added_by_id"]),
    )


def figures_of(tx: Tx, rows: Sequence[Row]) -> dict[str, Figures]:
    """The money figures of each order, from its line items, payments and refunds (three queries)."""
    ids = [r["id"] for r in rows]
    lines = store.lines_of(tx, ids)
    money = store.money_of(tx, ids)
    return {order_id: rules.figures(map(line_of, lines[order_id]), *money[order_id]) for order_id in ids}


def current_figures(tx: Tx, row: Row) -> Figures:
    """The order's figures as this transaction sees them. A push of many mutations to one order
    works each one out from the last instead of reading every line again."""
    key = ("figures", row["id"])
    if key not in tx.memo:
        tx.memo[key] = figures_of(tx, [row])[row["id"]]
    figures: Figures = tx.memo[key]
    return figures


def remember_figures(tx: Tx, order_id: str, figures: Figures) -> None:
    tx.memo[("figures", order_id)] = figures


def job_orders(tx: Tx, job_id: str) -> list[Row]:
    """The job's orders, oldest first, as this transaction sees them (kept for the transaction)."""
    key = ("job_orders", job_id)
    if key not in tx.memo:
        tx.memo[key] = store.for_job(tx, job_id)
    rows: list[Row] = tx.memo[key]
    return rows
