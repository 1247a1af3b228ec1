"""The SQL of `flint doctor` (`server/doctor.py`): a store read whole, read-only, in one
snapshot, so what it checks is one consistent moment even while the server writes.

Opening is a plain `sqlite3` connection in read-only mode: it takes no write lock, and in WAL
mode the server's writer goes on beside it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from server.store.db import Row, Tx
from server.store.migrations import names as known_migrations

COUNTED = frozenset(
    {
        *("customers", "jobs", "orders", "payments", "charges", "refunds", "payment_links", "sms_messages"),
        *("saved_cards", "card_links", "autopay_attempts"),
    }
)
MIGRATIONS_TABLE = "_sqlite_migrations"
FIRST_MIGRATION = "0001_core"


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Raises `sqlite3.Error` when the file cannot be opened as SQLite."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    conn.isolation_level = None
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def tables(tx: Tx) -> set[str]:
    return {row["name"] for row in tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")}


def migrations_applied(tx: Tx) -> list[str]:
    return [row["name"] for row in tx.all(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = 'flint'")]


def migrations_missing(applied: list[str]) -> list[str]:
    return [name for name in known_migrations() if name not in applied]


def integrity(tx: Tx) -> list[str]:
    """SQLite's own check: `["ok"]` when the file is sound."""
    return [str(row[0]) for row in tx.all("PRAGMA integrity_check")]


# The money rows, whole.


def orders(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT n, id, state, job_id, customer_id, metadata, currency, created_at, deposit, base, paid, pending,"
        " refunded, applied, refunded_deposit, total, balance FROM orders ORDER BY n"
    )


def jobs(tx: Tx) -> list[Row]:
    """The figures each job keeps."""
    return tx.all("SELECT id, total, paid, refunded, balance, unapplied, currency FROM jobs ORDER BY n")


def lines(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT order_id, uid, kind, quantity, unit_amount, approval, added_by_kind, created_at FROM line_items"
        " ORDER BY n"
    )


def payments(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT id, order_id, charge_id, amount, currency, status, method, created_at FROM payments ORDER BY n"
    )


def charges(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT id, job_id, amount, currency, status, method, estimate_id, created_at FROM charges ORDER BY n"
    )


def estimates(tx: Tx) -> list[Row]:
    return tx.all("SELECT id, number, state, content, content_hash FROM estimates ORDER BY n")


def approvals(tx: Tx) -> list[Row]:
    """Every approval, the evidence, whole."""
    return tx.all(
        "SELECT id, estimate_id, approval_request_id, order_id, line_uids, content, content_hash, deposit_amount,"
        " payment_id, charge_id FROM approvals ORDER BY n"
    )


def refunds(tx: Tx) -> list[Row]:
    return tx.all("SELECT id, payment_id, order_id, amount, currency, status, created_at FROM refunds ORDER BY n")


# Rows that point at nothing: (the kind of row, what is wrong with it, the SQL that finds them as
# `id` and `target`).
DANGLING = [
    ("payment", "is for order {target}, which does not exist",
     "SELECT p.id, p.order_id AS target FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL"),
    ("payment", "is part of charge {target}, which does not exist",
     "SELECT p.id, p.charge_id AS target FROM payments p LEFT JOIN charges c ON c.id = p.charge_id"
     " WHERE p.charge_id IS NOT NULL AND c.id IS NULL"),
    ("payment", "is part of no charge",
     "SELECT id, NULL AS target FROM payments WHERE charge_id IS NULL"),
    ("refund", "gives back payment {target}, which does not exist",
     "SELECT r.id, r.payment_id AS target FROM refunds r LEFT JOIN payments p ON p.id = r.payment_id"
     " WHERE p.id IS NULL"),
    ("refund", "is for order {target}, which does not exist",
     "SELECT r.id, r.order_id AS target FROM refunds r LEFT JOIN orders o ON o.id = r.order_id WHERE o.id IS NULL"),
    ("refund", "names order {target}, but the payment it gives back is on another order",
     "SELECT r.id, r.order_id AS target FROM refunds r JOIN payments p ON p.id = r.payment_id"
     " WHERE p.order_id != r.order_id"),
    ("payment link", "is for order {target}, which does not exist",
     "SELECT l.id, l.order_id AS target FROM payment_links l LEFT JOIN orders o ON o.id = l.order_id"
     " WHERE l.order_id IS NOT NULL AND o.id IS NULL"),
    ("payment link", "is for job {target}, which does not exist",
     "SELECT l.id, l.job_id AS target FROM payment_links l LEFT JOIN jobs j ON j.id = l.job_id"
     " WHERE l.job_id IS NOT NULL AND j.id IS NULL"),
    ("order", "belongs to job {target}, which does not exist",
     "SELECT o.id, o.job_id AS target FROM orders o LEFT JOIN jobs j ON j.id = o.job_id"
     " WHERE o.job_id IS NOT NULL AND j.id IS NULL"),
    ("order", "is for customer {target}, who does not exist",
     "SELECT o.id, o.customer_id AS target FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"
     " WHERE o.customer_id IS NOT NULL AND c.id IS NULL"),
    ("job", "is for customer {target}, who does not exist",
     "SELECT j.id, j.customer_id AS target FROM jobs j LEFT JOIN customers c ON c.id = j.customer_id"
     " WHERE c.id IS NULL"),
    ("charge", "is for job {target}, which does not exist",
     "SELECT c.id, c.job_id AS target FROM charges c LEFT JOIN jobs j ON j.id = c.job_id"
     " WHERE c.job_id IS NOT NULL AND j.id IS NULL"),
    ("text", "is about job {target}, which does not exist",
     "SELECT m.id, m.job_id AS target FROM sms_messages m LEFT JOIN jobs j ON j.id = m.job_id"
     " WHERE m.job_id IS NOT NULL AND j.id IS NULL"),
    ("text", "is about order {target}, which does not exist",
     "SELECT m.id, m.order_id AS target FROM sms_messages m LEFT JOIN orders o ON o.id = m.order_id"
     " WHERE m.order_id IS NOT NULL AND o.id IS NULL"),
    ("text", "carries payment link {target}, which does not exist",
     "SELECT m.id, m.payment_link_id AS target FROM sms_messages m LEFT JOIN payment_links l"
     " ON l.id = m.payment_link_id WHERE m.payment_link_id IS NOT NULL AND l.id IS NULL"),
    ("event", "carries object {target}, which does not exist",
     "SELECT e.id, e.object_n AS target FROM events e LEFT JOIN event_objects o ON o.n = e.object_n"
     " WHERE o.n IS NULL"),
    ("approval", "made order {target}, which does not exist",
     "SELECT a.id, a.order_id AS target FROM approvals a LEFT JOIN orders o ON o.id = a.order_id WHERE o.id IS NULL"),
    ("approval", "approves estimate {target}, which does not exist",
     "SELECT a.id, a.estimate_id AS target FROM approvals a LEFT JOIN estimates e ON e.id = a.estimate_id"
     " WHERE a.estimate_id IS NOT NULL AND e.id IS NULL"),
    ("approval request", "is for order {target}, which does not exist",
     "SELECT r.id, r.order_id AS target FROM approval_requests r LEFT JOIN orders o ON o.id = r.order_id"
     " WHERE o.id IS NULL"),
    ("estimate", "is for job {target}, which does not exist",
     "SELECT e.id, e.job_id AS target FROM estimates e LEFT JOIN jobs j ON j.id = e.job_id WHERE j.id IS NULL"),
    ("webhook delivery", "is for endpoint {target}, which does not exist",
     "SELECT d.id, d.endpoint_id AS target FROM webhook_deliveries d LEFT JOIN webhook_endpoints w"
     " ON w.id = d.endpoint_id WHERE w.id IS NULL"),
    ("webhook delivery", "sends event {target}, which does not exist",
     "SELECT d.id, d.event_id AS target FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id"
     " WHERE e.id IS NULL"),
]  # fmt: skip


def dangling(tx: Tx, sql: str) -> list[Row]:
    return tx.all(sql)


def texts_sending(tx: Tx) -> list[Row]:
    """Texts a worker claimed and never recorded an answer for."""
    return tx.all(
        "SELECT id, to_number, claimed_at, updated_at FROM sms_messages"
        " WHERE status = 'sending' AND provider_sid IS NULL ORDER BY n"
    )


def texts_awaiting_callbacks(tx: Tx) -> int:
    """Texts Twilio took whose status has not been called back yet."""
    row = tx.one("SELECT count(*) AS n FROM sms_messages WHERE status = 'sending' AND provider_sid IS NOT NULL")
    return int(row["n"]) if row else 0


def count(tx: Tx, table: str) -> int:
    """Rows in one of the `COUNTED` tables (never a name from outside)."""
    assert table in COUNTED
    row = tx.one(f"SELECT count(*) AS n FROM {table}")
    return int(row["n"]) if row else 0


# Card on file and autopay (contract §10).


def saved_cards(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT id, customer_id, processor, brand, last4, exp_month, exp_year, status FROM saved_cards ORDER BY n"
    )


def card_setups(tx: Tx) -> list[Row]:
    return tx.all("SELECT id, card_link_id, customer_id, status, saved_card_id, created_at FROM card_setups ORDER BY n")


def autopay_attempts(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT plan_id, period, attempt, charge_id, status, decline_code, created_at FROM autopay_attempts ORDER BY n"
    )


def autopay_cycles(tx: Tx) -> list[Row]:
    return tx.all(
        "SELECT c.plan_id, c.period, c.period_start, c.order_id, c.autopay, c.retries, c.next_attempt_at, p.status"
        " AS plan_status, p.name AS plan_name FROM service_plan_cycles c JOIN service_plans p ON p.id = c.plan_id"
        " WHERE c.autopay IS NOT NULL ORDER BY c.n"
    )
