"""The one ledger: what every order and every job owes, and the only place that says so.

The rule itself is `sync.ledger` (pure, shared with both device clients). This module keeps its
answer: each order's row holds what the rule is worked out from (`base`, `paid`, `pending`,
`refunded`, `deposit`) and what it says (`applied`, `refunded_deposit`, `total`, `balance`), and
each job's row holds the job's figures. Every change that moves money or lines calls it in the
same transaction, and it works the job out again from its orders' rows (never from their lines
or payments, so a change costs the same however big an order grows), writes Flint's own lines
(`Deposit applied`, `Deposit refunded`) and the figures that moved, and tells the change log.

Every surface reads these figures: the API, links, invoices, the board, the trail page, pulls;
`flint doctor` and the tests check them against the rule worked out from scratch (`from_scratch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from server.money import DEFAULT_CURRENCY, Currency, Money
from server.orders import store
from server.orders.lines import shown
from server.store import Row, Tx
from server.store.changelog import touch
from server.trail import service as trail
from server.wire import Actor
from sync import ledger

SYSTEM = Actor(kind="system", id="deposits")
BY = "deposits"  # the `added_by` id of Flint's own lines
Kept = dict[str, Any]  # an order's row as the ledger keeps it in a transaction
APPLIED_UID, APPLIED_NAME = "deposit-applied", "Deposit applied"
REFUNDED_UID, REFUNDED_NAME = "deposit-refunded", "Deposit refunded"


def money_of(row: Row | Kept, **changed: Any) -> ledger.OrderMoney:
    """An order's row as the rule takes it (`changed`: what a change would make of it)."""
    money = ledger.OrderMoney(
        id=row["id"],
        base=row["base"],
        paid=row["paid"],
        refunded=row["refunded"],
        pending=row["pending"],
        deposit=bool(row["deposit"]),
        cancelled=row["state"] == "cancelled",
    )
    return replace(money, **changed) if changed else money


@dataclass(frozen=True, slots=True)
class Standing:
    """A job's orders (oldest first) and what the rule says of them; an order on no job stands alone."""

    rows: list[Kept]
    figures: ledger.JobFigures

    @property
    def currency(self) -> Currency:
        return self.rows[0]["currency"] if self.rows else DEFAULT_CURRENCY

    def monies(self) -> list[ledger.OrderMoney]:
        return [money_of(row) for row in self.rows]

    def parts(self, amount: int | None = None) -> list[tuple[Kept, int]]:
        """`amount` (None: the whole balance) over the orders that owe, oldest first."""
        by_id = {row["id"]: row for row in self.rows}
        return [(by_id[order_id], part) for order_id, part in ledger.allocate(self.monies(), amount)]

    @property
    def in_flight(self) -> int:
        return sum(row["pending"] for row in self.rows)


def _kept(row: Row) -> Kept:
    return {key: row[key] for key in row.keys()}  # noqa: SIM118 (a Row is no mapping)


def rows_of(tx: Tx, job_id: str | None, order: Row | Kept | None = None) -> list[Kept]:
    """The job's orders oldest first, as this transaction sees them (read once a transaction, then
    kept current as the ledger writes them); an order on no job alone."""
    if job_id is None:
        assert order is not None
        fresh = store.get(tx, order["id"])
        return [_kept(fresh)] if fresh is not None else []
    key = (store.JOB_ORDERS, job_id)
    if key not in tx.memo:
        tx.memo[key] = [_kept(row) for row in store.for_job(tx, job_id)]
    rows: list[Kept] = tx.memo[key]
    return rows


def _cached(tx: Tx, job_id: str | None, order_id: str) -> Kept | None:
    rows = tx.memo.get((store.JOB_ORDERS, job_id))
    return next((r for r in rows if r["id"] == order_id), None) if rows is not None else None


def standing(tx: Tx, job_id: str | None, order: Row | Kept | None = None) -> Standing:
    """The job's orders and figures as this transaction sees them (read, not written)."""
    rows = rows_of(tx, job_id, order)
    return Standing(rows, ledger.figure([money_of(r) for r in rows]))


def kept_on_deposits(tx: Tx, job_id: str) -> int:
    """What the job keeps on its deposit orders (paid, in doubt included, less refunds): what an
    estimate's deposit is asked less of (contract §8)."""
    return sum(max(0, money.held) for money in standing(tx, job_id).monies() if money.deposit and not money.cancelled)


def preview(tx: Tx, row: Row | Kept, **changed: Any) -> ledger.JobFigures:
    """The figures of the order's job were the order changed so (its `base`, `state`, ...)."""
    rows = rows_of(tx, row["job_id"], row)
    return ledger.figure([money_of(r, **changed) if r["id"] == row["id"] else money_of(r) for r in rows])


def refigure(tx: Tx, job_id: str | None, order: Row | Kept | None = None) -> ledger.JobFigures:
    """Work the job (or the order on no job) out again and keep what moved."""
    rows = rows_of(tx, job_id, order)
    figures = ledger.figure([money_of(r) for r in rows])
    for row in rows:
        _keep_order(tx, row, figures.of(row["id"]))
    if job_id is not None:
        _keep_job(tx, job_id, figures, rows[0]["currency"] if rows else None)
    return figures


def _keep_order(tx: Tx, row: Kept, now: ledger.OrderFigures) -> None:
    was = (row["applied"], row["refunded_deposit"], row["total"], row["balance"])
    if was == (now.applied, now.refunded_deposit, now.total, now.balance):
        return
    order_id, job_id, currency = row["id"], row["job_id"], row["currency"]
    store.set_outputs(tx, order_id, now.applied, now.refunded_deposit, now.total, now.balance)
    applied_was, refunded_was = was[0], was[1]
    row.update(applied=now.applied, refunded_deposit=now.refunded_deposit, total=now.total, balance=now.balance)
    lines_moved = False
    if now.applied != applied_was:
        store.set_system_line(
            tx, order_id, _system(APPLIED_UID, APPLIED_NAME, ledger.DEPOSIT_APPLIED, now.applied, currency), APPLIED_UID
        )
        trail.record(
            tx,
            "order.deposit_applied",
            SYSTEM,
            {
                "orderId": order_id,
                "amountMoney": Money(now.applied, currency),
                "previousMoney": Money(applied_was, currency),
                "orderTotalMoney": Money(now.total, currency),
            },
            job_id=job_id,
            order_id=order_id,
        )
        lines_moved = True
    if now.refunded_deposit != refunded_was:
        line = _system(REFUNDED_UID, REFUNDED_NAME, ledger.DEPOSIT_REFUNDED, now.refunded_deposit, currency)
        store.set_system_line(tx, order_id, line, REFUNDED_UID)
        lines_moved = True
    if lines_moved:
        store.update_order(tx, order_id, job_id)  # its lines changed: a new version
    else:
        store.touch_order(tx, order_id, job_id)


def _system(uid: str, name: str, kind: str, amount: int, currency: Currency) -> dict[str, Any] | None:
    """One of Flint's lines (`1 x amount`) with its JSON; None at 0 (the line goes)."""
    if amount == 0:
        return None
    line = {
        "uid": uid,
        "name": name,
        "quantity": 1,
        "unit_amount": amount,
        "kind": kind,
        "added_by_kind": SYSTEM.kind,
        "added_by_id": BY,
    }
    return {**line, "shown": shown(line, currency)}


def _keep_job(tx: Tx, job_id: str, figures: ledger.JobFigures, currency: str | None) -> None:
    key = (store.JOB_FIGURES, job_id)
    if key not in tx.memo:
        found = store.job_figures(tx, [job_id]).get(job_id)
        tx.memo[key] = _kept(found) if found is not None else None
    row: Kept | None = tx.memo[key]
    if row is None:
        return
    currency = currency or row["currency"]
    now = (figures.total, figures.paid, figures.refunded, figures.balance, figures.unapplied, currency)
    if now == (row["total"], row["paid"], row["refunded"], row["balance"], row["unapplied"], row["currency"]):
        return
    store.set_job_figures(
        tx,
        job_id,
        total=figures.total,
        paid=figures.paid,
        refunded=figures.refunded,
        balance=figures.balance,
        unapplied=figures.unapplied,
        currency=currency,
    )
    row.update(
        total=figures.total,
        paid=figures.paid,
        refunded=figures.refunded,
        balance=figures.balance,
        unapplied=figures.unapplied,
        currency=currency,
    )
    touch(tx, "job", job_id, job_id)


# What moves the figures. Each caller then works the job out again (`refigure`), once for all its moves.


def lines_changed(tx: Tx, row: Row | Kept, base_change: int) -> None:
    store.add_inputs(tx, row["id"], base=base_change)
    if (kept := _cached(tx, row["job_id"], row["id"])) is not None:
        kept["base"] += base_change


def money_moved(
    tx: Tx, order_id: str, job_id: str | None, *, paid: int = 0, pending: int = 0, refunded: int = 0
) -> None:
    store.add_inputs(tx, order_id, paid=paid, pending=pending, refunded=refunded)
    if (kept := _cached(tx, job_id, order_id)) is not None:
        kept["paid"] += paid
        kept["pending"] += pending
        kept["refunded"] += refunded
    store.touch_order(tx, order_id, job_id)


# Reading what is kept.


@dataclass(frozen=True, slots=True)
class JobMoney:
    currency: Currency
    total: int
    paid: int
    refunded: int
    balance: int
    unapplied: int


def jobs_money(tx: Tx, job_ids: Sequence[str]) -> dict[str, JobMoney]:
    return {
        job_id: JobMoney(r["currency"], r["total"], r["paid"], r["refunded"], r["balance"], r["unapplied"])
        for job_id, r in store.job_figures(tx, job_ids).items()
    }


@dataclass(frozen=True, slots=True)
class OrderNow:
    """An order's kept figures as the API shows them; `paid` counts card money in doubt."""

    total: int
    paid: int
    pending: int
    refunded: int
    applied: int
    balance: int

    @property
    def held(self) -> int:
        return self.paid - self.refunded


def order_now(row: Row) -> OrderNow:
    cancelled = row["state"] == "cancelled"
    return OrderNow(
        total=0 if cancelled else row["total"],
        paid=row["paid"] + row["pending"],
        pending=row["pending"],
        refunded=row["refunded"],
        applied=row["applied"],
        balance=0 if cancelled else row["balance"],
    )


# From scratch: the rule over the lines, payments and refunds themselves.


def from_scratch(
    tx: Tx, job_id: str | None, order: Row | None = None
) -> tuple[list[ledger.OrderMoney], ledger.JobFigures]:
    """The job's orders and figures worked out from their lines, payments and refunds (what the
    kept figures must always equal)."""
    rows = rows_of(tx, job_id, order)
    ids = [r["id"] for r in rows]
    lines = store.lines_of(tx, ids)
    money = store.money_from_payments(tx, ids)
    monies = [
        money_of(
            r,
            base=ledger.base_of((x["kind"], x["quantity"], x["unit_amount"], x["approval"]) for x in lines[r["id"]]),
            paid=money[r["id"]][0],
            pending=money[r["id"]][1],
            refunded=money[r["id"]][2],
            deposit=ledger.is_deposit_stage(store.decode_metadata(r["metadata"]).get("paymentStage")),
        )
        for r in rows
    ]
    return monies, ledger.figure(monies)
