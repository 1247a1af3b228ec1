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

# What the ledger keeps of a transaction's reads (`Tx.memo`): a job's orders, a job's figures. The
# store writes through and drops a job's orders whenever an order joins, leaves or changes state.
JOB_ORDERS, JOB_FIGURES = "ledger:orders", "ledger:job"


def forget_job(tx: Tx, *job_ids: str | None) -> None:
    for job_id in job_ids:
        tx.memo.pop((JOB_ORDERS, job_id), None)


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
    forget_job(tx, job_id)
    touch(tx, "order", order_id, job_id)


def insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    try:
        _insert_lines(tx, order_id, lines)
    except sqlite3.IntegrityError:
        raise RuleViolation("duplicate_uid", "the order already has a line item with one of these uids") from None


def _insert_lines(tx: Tx, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    if len(lines) == 1:
        tx.run(_INSERT_LINE, {"approval": "none", **lines[0], "order_id": order_id, "created_at": tx.now})
        return
    tx.many(
        _INSERT_LINE,
        [{"approval": "none", **line, "order_id": order_id, "created_at": tx.now} for line in lines],
    )


_INSERT_LINE = (
    "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, approval, added_by_kind,"
    " added_by_id, created_at, shown) VALUES (:order_id, :uid, :name, :quantity, :unit_amount, :kind, :approval,"
    " :added_by_kind, :added_by_id, :created_at, :shown)"
)


def line(tx: Tx, order_id: str, uid: str) -> Row | None:
    return tx.one(f"SELECT {_LINE} FROM line_items WHERE order_id = ? AND uid = ?", (order_id, uid))


def set_approval(tx: Tx, order_id: str, lines: Sequence[tuple[str, str, str]]) -> None:
    """Each `(uid, approval, shown)`: the customer's answer on a line, and its JSON as now shown."""
    tx.many(
        "UPDATE line_items SET approval = ?, shown = ? WHERE order_id = ? AND uid = ?",
        [(approval, shown, order_id, uid) for uid, approval, shown in lines],
    )


def delete_line(tx: Tx, order_id: str, uid: str) -> None:
    tx.run("DELETE FROM line_items WHERE order_id = ? AND uid = ?", (order_id, uid))


def update_order(
    tx: Tx, order_id: str, job: str | None, *, moved_from: str | None = None, versions: int = 1, **fields: Any
) -> None:
    """Bump the version (by `versions`: one a change) and set `fields` (column names). `job` is the
    order's job after the change; `moved_from` the job it left, when the change moves it ("" for none)."""
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE orders SET version = version + :versions, updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": order_id, "versions": versions},
    )
    if fields:  # its state, job or stage may have changed: the jobs' orders are read again
        forget_job(tx, job, moved_from)
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


def job_figures(tx: Tx, job_ids: Sequence[str]) -> dict[str, Row]:
    return {r["id"]: r for r in tx.all_in(f"SELECT {_JOB_FIGURES} FROM jobs WHERE id IN ({{in}})", job_ids)}


def set_job_figures(
    tx: Tx, job_id: str, *, total: int, paid: int, refunded: int, balance: int, unapplied: int, currency: str
) -> None:
    tx.run(
        "UPDATE jobs SET total = ?, paid = ?, refunded = ?, balance = ?, unapplied = ?, currency = ? WHERE id = ?",
        (total, paid, refunded, balance, unapplied, currency, job_id),
    )


def set_system_line(tx: Tx, order_id: str, line: dict[str, Any] | None, uid: str) -> None:
    """Flint's own line on an order (`Deposit applied`, `Deposit refunded`), or gone (None)."""
    if line is None:
        delete_line(tx, order_id, uid)
        return
    tx.run(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, approval, added_by_kind,"
        " added_by_id, created_at, shown) VALUES (:order_id, :uid, :name, :quantity, :unit_amount, :kind, 'none',"
        " :added_by_kind, :added_by_id, :created_at, :shown) ON CONFLICT (order_id, uid) DO UPDATE SET"
        " quantity = excluded.quantity, unit_amount = excluded.unit_amount, shown = excluded.shown",
        {**line, "order_id": order_id, "uid": uid, "created_at": tx.now},
    )


def lines_json(tx: Tx, order_id: str) -> str:
    """The order's lines as one JSON array, joined from what each line says (`shown`)."""
    row = tx.one(
        "SELECT '[' || coalesce(group_concat(shown, ','), '') || ']' AS lines"
        " FROM (SELECT shown FROM line_items WHERE order_id = ? ORDER BY n)",
        (order_id,),
    )
    return str(row["lines"]) if row is not None else "[]"


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
