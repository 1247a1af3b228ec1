"""Migration 0014 (card on file) on a store with plans, their pauses and cycles: `service_plans`
is made again with the wider checks (`autopay`, `past_due`), every row and index kept, and the
rows that point at it still do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from server.store.migrations import migrate, migrations


def test_plans_keep_their_rows_and_take_autopay(tmp_path: Path) -> None:
    path = tmp_path / "flint.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    migrations.apply(Database(conn), stop_before="0014_card_on_file")
    now = "2026-05-01T14:00:00.000Z"
    with conn:
        conn.execute(
            "INSERT INTO customers (id, name, phone, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            ("cus_1", "Ana", "+15555550101", "residential", now, now),
        )
        conn.execute(
            "INSERT INTO service_plans (id, customer_id, name, line_items, currency, interval_unit, start_date,"
            " billing, due_in_days, status, next_period, created_at, updated_at)"
            " VALUES ('plan_1', 'cus_1', 'Monthly', '[]', 'USD', 'month', '2026-05-01', 'invoice', 30, 'paused', 2,"
            " ?, ?)",
            (now, now),
        )
        conn.execute("INSERT INTO service_plan_pauses (plan_id, paused_on) VALUES ('plan_1', '2026-06-15')")
    conn.close()

    assert migrate(str(path)) == ["0014_card_on_file"]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    row = conn.execute("SELECT id, billing, status, next_period FROM service_plans").fetchone()
    assert row == ("plan_1", "invoice", "paused", 2)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT plan_id FROM service_plan_pauses").fetchall() == [("plan_1",)]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'service_plans'")}
    assert "service_plans_status" in indexes
    with conn:
        conn.execute("UPDATE service_plans SET billing = 'autopay', status = 'past_due'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE service_plans SET billing = 'cheque'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM service_plans")  # its pauses still point at it
    conn.close()
