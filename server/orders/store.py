from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec

from server.errors import RuleViolation
from server.store import Row, Tx
from server.store.changelog import touch

_ORDER = (
    "n, id, version, state, customer_id, job_id, metadata, currency, created_at, updated_at,"
    " deposit, base, paid, pending, refunded, applied, refunded_deposit, total, balance"
)
_LINE = "n, order_id, uid, name, quantity, unit_amount, kind, approval, added_by_kind, added_by_id, created_at"
_JOB_FIGURES = "id, total, paid, refunded, balance, unapplied, currency"

_encode = msgspec.json.Encoder(order="sorted").encode
_decode = msgspec.json.Decoder(dict[str, str]).decode


def encode_metadata(metadata: dict[str, str]) -> str:
    return _encode(metadata).decode()


def decode_metadata(text: str) -> dict[str, str]:
    return _decode(text)


def insert_order(
    tx: Tx,
    order_id: str,
    *,
    customer_id: str | None,
    job_id: str | None,
    metadata: dict[str, str],
    currency: str,
    deposit: bool,
) -> None:
    tx.run(
        "INSERT INTO orders (id, version, state, customer_id, job_id, metadata, currency, deposit, created_at,"
        " updated_at) VALUES (?, 1, 'open', ?, ?, ?, ?, ?, ?, ?)",
        (order_id, customer_id, job_id, encode_metadata(metadata), currency, int(deposit), tx.now, tx.now),
    )
    touch(tx, "order", order_id, job_id)


def insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    try:
        _insert_lines(tx, order_id, lines)
    except sqlite3.IntegrityError:
        raise RuleViolation("duplicate_uid", "the order already has a line item with one of these uids") from None


def _insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    tx.many(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, approval, added_by_kind,"
        " added_by_id, created_at) VALUES (:order_id, :uid, :name, :quantity, :unit_amount, :kind, :approval,"
        " :added_by_kind, :added_by_id, :created_at)",
        [{"approval": "none", **line, "order_id": order_id, "created_at": tx.now} for line in lines],
    )


def line(tx: Tx, order_id: str, uid: str) -> Row | None:
    return tx.one(f"SELECT {_LINE} FROM line_items WHERE order_id = ? AND uid = ?", (order_id, uid))


def delete_line(tx: Tx, order_id: str, uid: str) -> None:
    tx.run("DELETE FROM line_items WHERE order_id = ? AND uid = ?", (order_id, uid))


def update_order(tx: Tx, order_id: str, job: str | None, *, moved_from: str | None = None, **fields: Any) -> None:
    """Bump the version and set `fields` (column names). `job` is the order's job after the change;
    `moved_from` the job it left, when the change moves it ("" for none)."""
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE orders SET version = version + 1, updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": order_id},
    )
    touch(tx, "order", order_id, job, moved_from)


def touch_order(tx: Tx, order_id: str, job_id: str | None) -> None:
    """What the order shows changed (its money or figures), though no column the office sets did."""
    touch(tx, "order", order_id, job_id)


# The figures each order and job keeps (written by `server.orders.ledger` alone).


def add_inputs(tx: Tx, order_id: str, *, base: int = 0, paid: int = 0, pending: int = 0, refunded: int = 0) -> None:
    """Move what the rule is worked out from: the order's base, and the money taken against it."""
    tx.run(
        "UPDATE orders SET base = base + ?, paid = paid + ?, pending = pending + ?, refunded = refunded + ?"
        " WHERE id = ?",
        (base, paid, pending, refunded, order_id),
    )


def set_outputs(tx: Tx, order_id: str, applied: int, refunded_deposit: int, total: int, balance: int) -> None:
    tx.run(
        "UPDATE orders SET applied = ?, refunded_deposit = ?, total = ?, balance = ? WHERE id = ?",
        (applied, refunded_deposit, total, balance, order_id),
    )


def set_deposit(tx: Tx, order_id: str, deposit: bool) -> None:
    tx.run("UPDATE orders SET deposit = ? WHERE id = ?", (int(deposit), order_id))


def job_figures(tx: Tx, job_ids: Sequence[str]) -> dict[str, Row]:
    return {r["id"]: r for r in tx.all_in(f"SELECT {_JOB_FIGURES} FROM jobs WHERE id IN ({{in}})", job_ids)}


def set_job_figures(
    tx: Tx, job_id: str, *, total: int, paid: int, refunded: int, balance: int, unapplied: int, currency: str
) -> None:
    tx.run(
        "UPDATE jobs SET total = ?, paid = ?, refunded = ?, balance = ?, unapplied = ?, currency = ? WHERE id = ?",
        (total, paid, refunded, balance, unapplied, currency, job_id),
    )


def set_system_line(tx: Tx, order_id: str, uid: str, name: str, kind: str, amount: int, by: str) -> None:
    """Flint's own line on an order (`Deposit applied`, `Deposit refunded`): `1 x amount`, or gone at 0."""
    if amount == 0:
        delete_line(tx, order_id, uid)
        return
    tx.run(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, approval, added_by_kind,"
        " added_by_id, created_at) VALUES (?, ?, ?, 1, ?, ?, 'none', 'system', ?, ?)"
        " ON CONFLICT (order_id, uid) DO UPDATE SET quantity = 1, unit_amount = excluded.unit_amount",
        (order_id, uid, name, amount, kind, by, tx.now),
    )


def money_from_payments(tx: Tx, order_ids: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """For each order, from the payments and refunds themselves: (captured, in flight, refunded).
    Only to check the kept figures against (`flint doctor`, tests)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in tx.all_in(
        "SELECT order_id, amount, status FROM payments WHERE status IN ('captured', 'pending') AND order_id IN ({in})",
        order_ids,
    ):
        found[row["order_id"]][0 if row["status"] == "captured" else 1] += row["amount"]
    for row in tx.all_in(
        "SELECT order_id, amount FROM refunds WHERE status = 'completed' AND order_id IN ({in})", order_ids
    ):
        found[row["order_id"]][2] += row["amount"]
    return {order_id: (found[order_id][0], found[order_id][1], found[order_id][2]) for order_id in order_ids}


def job_customer(tx: Tx, job_id: str) -> str | None:
    """The customer of a job an order names, or None when there is no such job."""
    row = tx.one("SELECT customer_id FROM jobs WHERE id = ?", (job_id,))
    return None if row is None else str(row["customer_id"])


def get(tx: Tx, order_id: str) -> Row | None:
    return tx.one(f"SELECT {_ORDER} FROM orders WHERE id = ?", (order_id,))


def for_job(tx: Tx, job_id: str) -> list[Row]:
    return tx.all(f"SELECT {_ORDER} FROM orders WHERE job_id = ? ORDER BY n", (job_id,))


def for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_ORDER} FROM orders WHERE job_id IN ({{in}}) ORDER BY n", job_ids)


def page(tx: Tx, after: int, limit: int, job_id: str | None, customer_id: str | None) -> list[Row]:
    where = ["n > ?"]
    params: list[Any] = [after]
    if job_id is not None:
        where.append("job_id = ?")
        params.append(job_id)
    if customer_id is not None:
        where.append("customer_id = ?")
        params.append(customer_id)
    params.append(limit + 1)
    return tx.all(f"SELECT {_ORDER} FROM orders WHERE {' AND '.join(where)} ORDER BY n LIMIT ?", params)


def lines_of(tx: Tx, order_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Line items of each order, in the order they were added."""
    found: dict[str, list[Row]] = defaultdict(list)
    for row in tx.all_in(f"SELECT {_LINE} FROM line_items WHERE order_id IN ({{in}}) ORDER BY n", order_ids):
        found[row["order_id"]].append(row)
    return found


def currencies_for_job(tx: Tx, job_id: str) -> set[str]:
    return {r["currency"] for r in tx.all("SELECT DISTINCT currency FROM orders WHERE job_id = ?", (job_id,))}


def get_many(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_ORDER} FROM orders WHERE id IN ({{in}}) ORDER BY n", order_ids)
