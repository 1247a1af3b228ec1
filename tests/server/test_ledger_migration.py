"""Migration 0009 brings a store made by an earlier Flint under the v3 rules: a refund that had
lowered the deposit line shows as `Deposit refunded` instead, an add-on that had slipped onto a
deposit order moves to the job's work, every figure is kept, and `flint doctor` calls it clean."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database as SqliteUtilsDatabase

from server.store.migrations import migrate, migrations
from tests.process import doctor

T0, T1 = "2026-04-01T10:00:00.000Z", "2026-04-02T10:00:00.000Z"
DEPOSIT_STAGE = '{"jobId":"job_1","paymentStage":"dispatch_deposit"}'


def an_old_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    migrations.apply(SqliteUtilsDatabase(conn), stop_before="0009_one_ledger")
    rows = [
        "INSERT INTO customers (id, name, phone, kind, created_at, updated_at)"
        f" VALUES ('cus_1', 'Ana', '+15555550101', 'residential', '{T0}', '{T0}')",
        "INSERT INTO jobs (id, customer_id, title, address, status, version, created_at, updated_at)"
        f" VALUES ('job_1', 'cus_1', 'Boiler', '1 Main', 'on_site', 1, '{T0}', '{T0}')",
        "INSERT INTO orders (id, version, state, customer_id, job_id, metadata, currency, created_at, updated_at)"
        f" VALUES ('ord_dep', 3, 'open', 'cus_1', 'job_1', '{DEPOSIT_STAGE}', 'USD', '{T0}', '{T1}')",
        "INSERT INTO orders (id, version, state, customer_id, job_id, metadata, currency, created_at, updated_at)"
        f" VALUES ('ord_work', 2, 'open', 'cus_1', 'job_1', '{{\"jobId\":\"job_1\"}}', 'USD', '{T0}', '{T1}')",
        # The deposit line, lowered from $100.00 to $80.00 by a $20.00 refund as the old rule did.
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, created_at)"
        f" VALUES ('ord_dep', 'd1', 'Dispatch deposit', 1, 8000, 'service', 'office', '{T0}')",
        # A $50.00 add-on a device put on the deposit order a day later: nobody was asked for it.
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, created_at)"
        f" VALUES ('ord_dep', 'a1', 'Capacitor', 1, 5000, 'addon', 'device', '{T1}')",
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, created_at)"
        f" VALUES ('ord_work', 'w1', 'Boiler repair', 1, 30000, 'service', 'office', '{T0}')",
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, added_by_id,"
        f" created_at) VALUES ('ord_work', 'deposit-applied', 'Deposit applied', 1, 8000, 'deposit_applied',"
        f" 'system', 'deposits', '{T1}')",
        "INSERT INTO charges (id, job_id, amount, currency, status, method, source, actor_kind, created_at,"
        f" settled_at) VALUES ('ch_1', 'job_1', 10000, 'USD', 'captured', 'cash', 'office', 'office', '{T0}', '{T0}')",
        "INSERT INTO payments (id, order_id, amount, currency, status, method, source, charge_id, created_at)"
        f" VALUES ('pay_1', 'ord_dep', 10000, 'USD', 'captured', 'cash', 'office', 'ch_1', '{T0}')",
        "INSERT INTO refunds (id, payment_id, order_id, amount, currency, reason, status, created_at)"
        f" VALUES ('ref_1', 'pay_1', 'ord_dep', 2000, 'USD', 'goodwill', 'completed', '{T1}')",
    ]
    with conn:
        for sql in rows:
            conn.execute(sql)
    conn.close()


def test_an_old_store_is_brought_under_the_one_ledger(tmp_path: Path) -> None:
    path = tmp_path / "flint.db"
    an_old_store(path)
    assert migrate(str(path)) == [
        "0009_one_ledger",
        "0010_web_sessions",
        "0011_events_and_webhooks",
        "0012_card_on_file",
    ]
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    lines = {
        (r["order_id"], r["name"]): (r["kind"], r["quantity"] * r["unit_amount"])
        for r in conn.execute("SELECT order_id, name, kind, quantity, unit_amount FROM line_items")
    }
    assert lines == {
        ("ord_dep", "Dispatch deposit"): ("service", 10000),  # the deposit as it was asked
        ("ord_dep", "Deposit refunded"): ("deposit_refunded", 2000),
        ("ord_work", "Boiler repair"): ("service", 30000),
        ("ord_work", "Capacitor"): ("addon", 5000),  # moved to the work, where it is owed
        ("ord_work", "Deposit applied"): ("deposit_applied", 8000),
    }
    work = conn.execute("SELECT total, balance FROM orders WHERE id = 'ord_work'").fetchone()
    assert (work["total"], work["balance"]) == (27000, 27000)
    job = conn.execute("SELECT total, paid, refunded, balance, unapplied FROM jobs WHERE id = 'job_1'").fetchone()
    assert tuple(job) == (35000, 10000, 2000, 27000, 0)
    moved = conn.execute("SELECT type FROM trail_events WHERE job_id = 'job_1'").fetchall()
    assert [r["type"] for r in moved] == ["order.line_items_moved"]
    conn.close()
    checked = doctor(path)
    assert checked.returncode == 0, checked.stdout


def test_doctor_names_an_add_on_on_a_deposit_order(tmp_path: Path) -> None:
    """A store the rules were broken in by hand: `flint doctor` can no longer call it clean."""
    path = tmp_path / "flint.db"
    an_old_store(path)
    migrate(str(path))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE line_items SET order_id = 'ord_dep' WHERE name = 'Capacitor'")
    conn.close()
    checked = doctor(path)
    assert checked.returncode == 1
    assert "is a deposit order, but line a1 was added to it after it was made" in checked.stdout
    assert "order ord_dep (job job_1): keeps base" in checked.stdout
