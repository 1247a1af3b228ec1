"""Migration 0009, one ledger: every order and job keeps its figures (contract §3 v3), and stores
made by earlier versions are brought under the v3 rules.

- A refund of deposit money used to lower the deposit order's own line; it is raised back and
  the refund shows as a `Deposit refunded` line instead, so the deposit stays on the record.
- Lines added to a deposit order after it was made (an add-on the customer was never asked to
  pay for) move to the job's oldest open work order, or to a new one.
- Then each order's and job's figures are worked out from scratch with `sync.ledger` and kept,
  with the `Deposit applied` and `Deposit refunded` lines they imply. Devices are told through
  the change log.

Plain SQL and the pure rule only: the store floor imports no domain.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sync import ledger

APPLIED_UID = "deposit-applied"
REFUNDED_UID = "deposit-refunded"

COLUMNS = """
ALTER TABLE line_items ADD COLUMN approval TEXT NOT NULL DEFAULT 'none';
ALTER TABLE line_items ADD COLUMN shown TEXT NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN deposit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN paid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN applied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refunded_deposit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN balance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN paid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN balance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN unapplied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE refunds ADD COLUMN request_hash TEXT;
CREATE INDEX sms_link ON sms_messages(payment_link_id);
CREATE INDEX line_items_order ON line_items(order_id, n)
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def migrate(conn: sqlite3.Connection) -> None:
    factory = conn.row_factory
    conn.row_factory = sqlite3.Row
    try:
        _migrate(conn)
    finally:
        conn.row_factory = factory


def _migrate(conn: sqlite3.Connection) -> None:
    for statement in COLUMNS.split(";"):
        conn.execute(statement)
    now = _now()
    orders = conn.execute("SELECT id, job_id, metadata, currency, state, created_at FROM orders ORDER BY n").fetchall()
    deposit = {o["id"]: ledger.is_deposit_stage(json.loads(o["metadata"]).get("paymentStage")) for o in orders}
    conn.executemany("UPDATE orders SET deposit = 1 WHERE id = ?", [(i,) for i, d in deposit.items() if d])
    _raise_lowered_deposits(conn, [o for o in orders if deposit[o["id"]]])
    _move_added_lines(conn, [o for o in orders if deposit[o["id"]]], now)
    conn.execute("DELETE FROM line_items WHERE kind IN (?, ?)", tuple(ledger.SYSTEM_KINDS))
    refigure_all(conn, now)
    _show_lines(conn)
    _tell_devices(conn, now)


def _raise_lowered_deposits(conn: sqlite3.Connection, deposit_orders: list[sqlite3.Row]) -> None:
    """Put back what refunds took off each deposit order's lines: onto a line the order was made
    with (the deposit asked), the one the old rule lowered first (the last `deposit` line, else
    the last line that asks)."""
    for order in deposit_orders:
        order_id = order["id"]
        (refunded,) = conn.execute(
            "SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = ? AND status = 'completed'", (order_id,)
        ).fetchone()
        if not refunded:
            continue
        lines = conn.execute(
            "SELECT n, kind, quantity, unit_amount, created_at FROM line_items WHERE order_id = ? ORDER BY n",
            (order_id,),
        ).fetchall()
        asking = [line for line in lines if line["kind"] not in ledger.SUBTRACTING]
        if not asking:
            continue
        first = sorted(
            reversed(asking), key=lambda line: (line["created_at"] > order["created_at"], line["kind"] != "deposit")
        )[0]
        total = ledger.line_amount(first["quantity"], first["unit_amount"]) + refunded
        conn.execute("UPDATE line_items SET quantity = 1, unit_amount = ? WHERE n = ?", (total, first["n"]))


def _move_added_lines(conn: sqlite3.Connection, deposit_orders: list[sqlite3.Row], now: str) -> None:
    """Client lines added to a deposit order after it was made go to the job's work."""
    for order in deposit_orders:
        added = conn.execute(
            "SELECT n, uid FROM line_items WHERE order_id = ? AND created_at > ? AND kind NOT IN (?, ?) ORDER BY n",
            (order["id"], order["created_at"], *ledger.SYSTEM_KINDS),
        ).fetchall()
        if not added or order["job_id"] is None:
            continue
        work = _work_order(conn, order, now)
        for line in added:
            taken = conn.execute("SELECT 1 FROM line_items WHERE order_id = ? AND uid = ?", (work, line["uid"]))
            uid = line["uid"] if taken.fetchone() is None else f"{line['uid']}-moved"
            conn.execute("UPDATE line_items SET order_id = ?, uid = ? WHERE n = ?", (work, uid, line["n"]))
        data = {"fromOrderId": order["id"], "toOrderId": work, "uids": [line["uid"] for line in added]}
        conn.execute(
            "INSERT INTO trail_events (job_id, order_id, at, type, actor_kind, actor_id, data)"
            " VALUES (?, ?, ?, 'order.line_items_moved', 'system', 'migration', ?)",
            (order["job_id"], work, now, json.dumps(data, sort_keys=True, separators=(",", ":"))),
        )


def _work_order(conn: sqlite3.Connection, deposit_order: sqlite3.Row, now: str) -> str:
    found = conn.execute(
        "SELECT id FROM orders WHERE job_id = ? AND deposit = 0 AND state = 'open' ORDER BY n LIMIT 1",
        (deposit_order["job_id"],),
    ).fetchone()
    if found is not None:
        return str(found["id"])
    order_id = f"ord_{secrets.token_hex(12)}"
    customer = conn.execute("SELECT customer_id FROM jobs WHERE id = ?", (deposit_order["job_id"],)).fetchone()
    metadata = json.dumps({"jobId": deposit_order["job_id"], "paymentStage": "work"}, sort_keys=True)
    conn.execute(
        "INSERT INTO orders (id, version, state, customer_id, job_id, metadata, currency, created_at, updated_at)"
        " VALUES (?, 1, 'open', ?, ?, ?, ?, ?, ?)",
        (order_id, customer["customer_id"], deposit_order["job_id"], metadata, deposit_order["currency"], now, now),
    )
    return order_id


def refigure_all(conn: sqlite3.Connection, now: str) -> None:
    """Every order's inputs from its lines, payments and refunds; every figure from the rule."""
    base: dict[str, int] = defaultdict(int)
    for line in conn.execute("SELECT order_id, kind, quantity, unit_amount, approval FROM line_items"):
        base[line["order_id"]] += ledger.base_of(
            [(line["kind"], line["quantity"], line["unit_amount"], line["approval"])]
        )
    paid: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for row in conn.execute("SELECT order_id, amount, status FROM payments WHERE status IN ('captured', 'pending')"):
        (paid if row["status"] == "captured" else pending)[row["order_id"]] += row["amount"]
    refunded: dict[str, int] = defaultdict(int)
    for row in conn.execute("SELECT order_id, amount FROM refunds WHERE status = 'completed'"):
        refunded[row["order_id"]] += row["amount"]
    rows = conn.execute("SELECT id, job_id, state, deposit, currency FROM orders ORDER BY n").fetchall()
    conn.executemany(
        "UPDATE orders SET base = ?, paid = ?, pending = ?, refunded = ? WHERE id = ?",
        [(base[r["id"]], paid[r["id"]], pending[r["id"]], refunded[r["id"]], r["id"]) for r in rows],
    )
    groups: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in rows:
        groups[row["job_id"] or f"lone:{row['id']}"].append(row)
    for key, own in groups.items():
        monies = [
            ledger.OrderMoney(
                id=r["id"], base=base[r["id"]], paid=paid[r["id"]], refunded=refunded[r["id"]],
                pending=pending[r["id"]], deposit=bool(r["deposit"]), cancelled=r["state"] == "cancelled",
            )
            for r in own
        ]  # fmt: skip
        figures = ledger.figure(monies)
        for r in own:
            f = figures.of(r["id"])
            _system_line(conn, r["id"], APPLIED_UID, "Deposit applied", ledger.DEPOSIT_APPLIED, f.applied, now)
            _system_line(
                conn, r["id"], REFUNDED_UID, "Deposit refunded", ledger.DEPOSIT_REFUNDED, f.refunded_deposit, now
            )
            conn.execute(
                "UPDATE orders SET applied = ?, refunded_deposit = ?, total = ?, balance = ? WHERE id = ?",
                (f.applied, f.refunded_deposit, f.total, f.balance, r["id"]),
            )
        if not key.startswith("lone:"):
            conn.execute(
                "UPDATE jobs SET total = ?, paid = ?, refunded = ?, balance = ?, unapplied = ?, currency = ?"
                " WHERE id = ?",
                (figures.total, figures.paid, figures.refunded, figures.balance, figures.unapplied,
                 own[0]["currency"], key),
            )  # fmt: skip


def _system_line(
    conn: sqlite3.Connection, order_id: str, uid: str, name: str, kind: str, amount: int, now: str
) -> None:
    if amount:
        conn.execute(
            "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, added_by_id,"
            " created_at) VALUES (?, ?, ?, 1, ?, ?, 'system', 'ledger', ?)",
            (order_id, uid, name, amount, kind, now),
        )


def _show_lines(conn: sqlite3.Connection) -> None:
    """Each line's JSON as the API shows it (what `server.orders.lines.shown` writes for new ones)."""
    conn.execute(
        "UPDATE line_items SET shown = (SELECT json_object('uid', l.uid, 'name', l.name, 'quantity', l.quantity,"
        " 'unitPriceMoney', json_object('amount', l.unit_amount, 'currency', o.currency), 'kind', l.kind,"
        " 'totalMoney', json_object('amount', l.quantity * l.unit_amount, 'currency', o.currency),"
        " 'addedBy', json_object('kind', l.added_by_kind, 'id', l.added_by_id))"
        " FROM line_items l JOIN orders o ON o.id = l.order_id WHERE l.n = line_items.n)"
    )


def _tell_devices(conn: sqlite3.Connection, now: str) -> None:
    """Every order and job may have changed its figures or lines: one change-log transaction says so."""
    rows: list[tuple[Any, ...]] = [
        ("order", r["id"], r["job_id"]) for r in conn.execute("SELECT id, job_id FROM orders ORDER BY n")
    ]
    rows += [("job", r["id"], r["id"]) for r in conn.execute("SELECT id FROM jobs ORDER BY n")]
    if not rows:
        return
    first = conn.execute(
        "INSERT INTO changes (entity, entity_id, job_id, at) VALUES (?, ?, ?, ?)", (*rows[0], now)
    ).lastrowid
    conn.executemany(
        "INSERT INTO changes (entity, entity_id, job_id, at) VALUES (?, ?, ?, ?)", [(*r, now) for r in rows[1:]]
    )
    conn.execute("UPDATE changes SET txn = ? WHERE seq >= ?", (first, first))
