from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec

from server.errors import RuleViolation
from server.store import Row, Tx
from server.store.changelog import touch

_ORDER = "n, id, version, state, customer_id, job_id, metadata, currency, created_at, updated_at"
_LINE = "n, order_id, uid, name, quantity, unit_amount, kind, added_by_kind, added_by_id, created_at"

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
) -> None:
    tx.run(
        "INSERT INTO orders (id, version, state, customer_id, job_id, metadata, currency, created_at,"
        " updated_at) VALUES (?, 1, 'open', ?, ?, ?, ?, ?, ?)",
        (order_id, customer_id, job_id, encode_metadata(metadata), currency, tx.now, tx.now),
    )
    tx.memo.pop(("job_orders", job_id), None)
    touch(tx, "order", order_id, job_id)


def insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    try:
        _insert_lines(tx, order_id, lines)
    except sqlite3.IntegrityError:
        raise RuleViolation("duplicate_uid", "the order already has a line item with one of these uids") from None


def _insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    tx.many(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind,"
        " added_by_id, created_at) VALUES (:order_id, :uid, :name, :quantity, :unit_amount, :kind,"
        " :added_by_kind,"
        " :added_by_id, :created_at)",
        [{**line, "order_id": order_id, "created_at": tx.now} for line in lines],
    )


def line(tx: Tx, order_id: str, uid: str) -> Row | None:
    return tx.one(f"SELECT {_LINE} FROM line_items WHERE order_id = ? AND uid = ?", (order_id, uid))


def set_line_total(tx: Tx, order_id: str, uid: str, total: int) -> None:
    """Make a line `1 x total` (a system line's amount, or a deposit line lowered by a refund)."""
    tx.run("UPDATE line_items SET quantity = 1, unit_amount = ? WHERE order_id = ? AND uid = ?", (total, order_id, uid))


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
    if fields:  # its state, job or stage may have changed: the jobs' lists of orders are read again
        tx.memo.pop(("job_orders", job), None)
        tx.memo.pop(("job_orders", moved_from), None)
    _changed(tx, order_id, job, moved_from)


def touch_order(tx: Tx, order_id: str, job_id: str | None) -> None:
    """The order's money figures changed (a payment or refund), though the order row did not."""
    _changed(tx, order_id, job_id)


def _changed(tx: Tx, order_id: str, job_id: str | None, moved_from: str | None = None) -> None:
    tx.memo.pop(("figures", order_id), None)
    touch(tx, "order", order_id, job_id, moved_from)


def money_of(tx: Tx, order_ids: Sequence[str]) -> dict[str, tuple[list[int], list[int], list[int]]]:
    """For each order: the amounts of its captured payments, of its completed refunds, and of
    card payments in flight. An order's money is part of the order: its figures are made here
    from the payments taken against it, not by the payments domain."""
    found: dict[str, tuple[list[int], list[int], list[int]]] = defaultdict(lambda: ([], [], []))
    for row in tx.all_in(
        "SELECT order_id, amount, status FROM payments WHERE status IN ('captured', 'pending') AND order_id IN ({in})",
        order_ids,
    ):
        found[row["order_id"]][0 if row["status"] == "captured" else 2].append(row["amount"])
    for row in tx.all_in(
        "SELECT order_id, amount FROM refunds WHERE status = 'completed' AND order_id IN ({in})", order_ids
    ):
        found[row["order_id"]][1].append(row["amount"])
    return found


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
