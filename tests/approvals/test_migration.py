"""Migration 0013: a store made before approvals keeps every line's JSON (`shown`, what events
render orders from) equal to what the API shows, now with each line's `approval`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
from sqlite_utils import Database as SqliteUtilsDatabase

from server.orders.lines import shown
from server.store.migrations import migrate, migrations

T0 = "2026-04-01T10:00:00.000Z"


def _old_shown(uid: str, name: str, quantity: int, amount: int, kind: str, by: str) -> str:
    """A line's JSON as Flint wrote it before lines said their approval."""
    money = {"amount": amount, "currency": "USD"}
    line = {
        "uid": uid,
        "name": name,
        "quantity": quantity,
        "unitPriceMoney": money,
        "kind": kind,
        "totalMoney": {"amount": amount * quantity, "currency": "USD"},
        "addedBy": {"kind": by, "id": None},
    }
    return msgspec.json.encode(line).decode()


def test_lines_kept_json_gains_its_approval(tmp_path: Path) -> None:
    path = tmp_path / "flint.db"
    conn = sqlite3.connect(path)
    migrations.apply(SqliteUtilsDatabase(conn), stop_before="0013_estimates_and_approvals")
    with conn:
        conn.execute(
            "INSERT INTO orders (id, version, state, metadata, currency, created_at, updated_at)"
            " VALUES ('ord_1', 1, 'open', '{}', 'USD', ?, ?)",
            (T0, T0),
        )
        for uid, name, quantity, amount, kind, by in (
            ("a", "Boiler repair", 1, 30000, "service", "office"),
            ("b", "Gasket “high temp”", 2, 1850, "material", "device"),
        ):
            conn.execute(
                "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, created_at,"
                " shown) VALUES ('ord_1', ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid, name, quantity, amount, kind, by, T0, _old_shown(uid, name, quantity, amount, kind, by)),
            )
    conn.close()

    assert migrate(str(path))[:1] == ["0013_estimates_and_approvals"]
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM line_items ORDER BY n").fetchall()
    conn.close()
    assert [msgspec.json.decode(r["shown"])["approval"] for r in rows] == ["none", "none"]
    assert [r["shown"] for r in rows] == [shown(r, "USD") for r in rows]  # byte for byte what the API writes
