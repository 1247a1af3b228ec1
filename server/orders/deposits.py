"""Deposits carry over (contract §3): money kept on a job's deposit orders is applied to its other
orders as one system line each, worked out again in the transaction of every change that could
move it (a deposit paid or refunded, an order created, grown, shrunk, cancelled or moved).

The arithmetic is `sync.ledger.deposit_application`, the same the device shows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from server.money import Money
from server.orders import store
from server.orders.figures import current_figures, job_orders, remember_figures
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor
from sync import ledger

SYSTEM = Actor(kind="system", id="deposits")
LINE_UID = "deposit-applied"
LINE_NAME = "Deposit applied"


def is_deposit_order(row: Row) -> bool:
    return ledger.is_deposit_stage(store.decode_metadata(row["metadata"]).get("paymentStage"))


def _deposit(tx: Tx, row: Row) -> bool:
    """`is_deposit_order`, read once a transaction per order and metadata."""
    key = ("deposit", row["id"], row["metadata"])
    if key not in tx.memo:
        tx.memo[key] = is_deposit_order(row)
    found: bool = tx.memo[key]
    return found


def order_money(tx: Tx, row: Row) -> ledger.OrderMoney:
    figures = current_figures(tx, row)
    return ledger.OrderMoney(
        id=row["id"],
        base=figures.base,
        paid=figures.paid,
        refunded=figures.refunded,
        pending=figures.pending,
        deposit=_deposit(tx, row),
        cancelled=row["state"] == "cancelled",
    )


def job_money(tx: Tx, job_id: str) -> list[tuple[Row, ledger.OrderMoney]]:
    """The job's orders, oldest first, with the money the job's arithmetic needs."""
    return [(row, order_money(tx, row)) for row in job_orders(tx, job_id)]


def _quiet(tx: Tx, orders: list[tuple[Row, ledger.OrderMoney]]) -> bool:
    """No deposit order and no deposit applied: nothing to work out (most jobs, most of the time)."""
    return not any(money.deposit or current_figures(tx, row).applied for row, money in orders)


def applied_after(tx: Tx, row: Row, base: int) -> int:
    """The deposit the order would take were its lines to total `base`."""
    orders = job_money(tx, row["job_id"])
    if _quiet(tx, orders):
        return 0
    monies = [replace(m, base=base) if r["id"] == row["id"] else m for r, m in orders]
    mine = next((m for m in monies if m.id == row["id"]), None)
    if mine is None or mine.deposit or mine.cancelled:
        return 0
    return ledger.deposit_application(monies).of(row["id"])


def rebalance(tx: Tx, job_id: str | None) -> None:
    """Make each order's `Deposit applied` line what the job's deposits say it should be."""
    if job_id is None:
        return
    orders = job_money(tx, job_id)
    if _quiet(tx, orders):
        return
    application = ledger.deposit_application([money for _, money in orders])
    for row, money in orders:
        want = 0 if money.deposit or money.cancelled else application.of(row["id"])
        if want != current_figures(tx, row).applied:
            _apply(tx, row, want)


def _apply(tx: Tx, row: Row, want: int) -> None:
    order_id, currency = row["id"], row["currency"]
    before = current_figures(tx, row)
    have = before.applied
    if want == 0:
        store.delete_line(tx, order_id, LINE_UID)
    elif have == 0:
        store.insert_lines(tx, order_id, [_line(want)])
    else:
        store.set_line_total(tx, order_id, LINE_UID, want)
    store.update_order(tx, order_id, row["job_id"])
    after = replace(before, total=before.total + have - want, applied=want)
    remember_figures(tx, order_id, after)
    event: dict[str, Any] = {
        "orderId": order_id,
        "amountMoney": Money(want, currency),
        "previousMoney": Money(have, currency),
        "orderTotalMoney": Money(after.total, currency),
    }
    trail.record(tx, "order.deposit_applied", SYSTEM, event, job_id=row["job_id"], order_id=order_id)


def _line(amount: int) -> dict[str, Any]:
    return {
        "uid": LINE_UID,
        "name": LINE_NAME,
        "quantity": 1,
        "unit_amount": amount,
        "kind": ledger.DEPOSIT_APPLIED,
        "added_by_kind": SYSTEM.kind,
        "added_by_id": SYSTEM.id,
    }


def lower_deposit(tx: Tx, row: Row, amount: int) -> None:
    """A refund of a deposit payment lowers what the deposit order asks by the refund, so the
    deposit order owes nothing more and the job's balance rises by exactly the refund."""
    if not is_deposit_order(row):
        return
    before = current_figures(tx, row)
    left = amount
    lines = store.lines_of(tx, [row["id"]])[row["id"]]
    # The deposit lines first (the brief's deposit order has one line of the default kind).
    asking = [line for line in lines if line["kind"] not in ledger.SUBTRACTING]
    for line in sorted(reversed(asking), key=lambda line: line["kind"] != "deposit"):
        if left == 0:
            break
        line_total = ledger.line_amount(line["quantity"], line["unit_amount"])
        take = min(left, line_total)
        store.set_line_total(tx, row["id"], line["uid"], line_total - take)
        left -= take
    if left != amount:
        store.update_order(tx, row["id"], row["job_id"])
        remember_figures(tx, row["id"], replace(before, total=before.total - (amount - left)))
        trail.record(
            tx,
            "order.deposit_lowered",
            SYSTEM,
            {"orderId": row["id"], "amountMoney": Money(amount - left, row["currency"])},
            job_id=row["job_id"],
            order_id=row["id"],
        )
