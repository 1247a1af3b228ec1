"""SQL of the message outbox and the opt-out list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_MESSAGE = (
    "n, id, to_number, body, status, provider_sid, error_code, attempts, in_doubt, next_attempt_at,"
    " claimed_at, payment_link_id, invoice_id, order_id, job_id, dedupe_key, created_at, updated_at"
)


def insert(tx: Tx, **row: Any) -> None:
    tx.insert("sms_messages", {**row, "created_at": tx.now, "updated_at": tx.now})
    touch(tx, "sms", row["id"], row.get("job_id"))


def update(tx: Tx, message: Row, **fields: Any) -> None:
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE sms_messages SET updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": message["id"]},
    )
    touch(tx, "sms", message["id"], message["job_id"])


def sids_to(tx: Tx, to_number: str) -> set[str]:
    rows = tx.all(
        "SELECT provider_sid FROM sms_messages WHERE to_number = ? AND provider_sid IS NOT NULL", (to_number,)
    )
    return {row["provider_sid"] for row in rows}


def move_order(tx: Tx, order_id: str, job_id: str | None) -> None:
    """An order moved to another job: its texts follow it."""
    for row in tx.all("SELECT id FROM sms_messages WHERE order_id = ?", (order_id,)):
        tx.run("UPDATE sms_messages SET job_id = ?, updated_at = ? WHERE id = ?", (job_id, tx.now, row["id"]))
        touch(tx, "sms", row["id"], job_id)


def get(tx: Tx, message_id: str) -> Row | None:
    return tx.one(f"SELECT {_MESSAGE} FROM sms_messages WHERE id = ?", (message_id,))


def by_sid(tx: Tx, sid: str) -> Row | None:
    return tx.one(f"SELECT {_MESSAGE} FROM sms_messages WHERE provider_sid = ?", (sid,))


def by_dedupe_key(tx: Tx, key: str) -> Row | None:
    return tx.one(f"SELECT {_MESSAGE} FROM sms_messages WHERE dedupe_key = ?", (key,))


def same_text_since(tx: Tx, link_id: str, to: str, body: str, since: str) -> Row | None:
    """The last text of this link to this number since `since`, if it had these words and was
    not refused on its way (failed, undelivered, blocked): that text stands for a new one."""
    row = tx.one(
        f"SELECT {_MESSAGE} FROM sms_messages WHERE payment_link_id = ? AND to_number = ? AND created_at >= ?"
        " ORDER BY n DESC LIMIT 1",
        (link_id, to, since),
    )
    if row is None or row["body"] != body or row["status"] in ("failed", "undelivered", "blocked"):
        return None
    return row


def due(tx: Tx, now: str, limit: int) -> list[Row]:
    return tx.all(
        f"SELECT {_MESSAGE} FROM sms_messages WHERE status = 'queued' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, n LIMIT ?",
        (now, limit),
    )


def next_due_at(tx: Tx) -> str | None:
    row = tx.one("SELECT min(next_attempt_at) AS at FROM sms_messages WHERE status = 'queued'")
    return None if row is None else row["at"]


def unsettled_sends(tx: Tx) -> list[Row]:
    """Claimed for sending with no answer recorded: what a dead process left behind."""
    return tx.all(f"SELECT {_MESSAGE} FROM sms_messages WHERE status = 'sending' AND provider_sid IS NULL ORDER BY n")


def page(tx: Tx, after: int, limit: int, job_id: str | None, order_id: str | None) -> list[Row]:
    where: list[str] = ["n > ?"]
    params: list[Any] = [after]
    if job_id is not None:
        where.append("job_id = ?")
        params.append(job_id)
    if order_id is not None:
        where.append("order_id = ?")
        params.append(order_id)
    return tx.all(
        f"SELECT {_MESSAGE} FROM sms_messages WHERE {' AND '.join(where)} ORDER BY n LIMIT ?",
        [*params, limit + 1],
    )


def is_opted_out(tx: Tx, phone: str) -> bool:
    row = tx.one("SELECT opted_out FROM sms_opt_outs WHERE phone = ?", (phone,))
    return bool(row and row["opted_out"])


def set_opt_out(tx: Tx, phone: str, opted_out: bool) -> None:
    tx.run(
        "INSERT INTO sms_opt_outs (phone, opted_out, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, updated_at = excluded.updated_at",
        (phone, int(opted_out), tx.now),
    )


def mark_inbound(tx: Tx, sid: str, from_number: str, keyword: str | None) -> bool:
    """Record an inbound message as handled; False when its sid was handled before."""
    cursor = tx.run(
        "INSERT INTO sms_inbound_handled (sid, from_number, keyword, received_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (sid) DO NOTHING",
        (sid, from_number, keyword, tx.now),
    )
    return cursor.rowcount == 1


def purge_early_callbacks(tx: Tx, before: str) -> int:
    """Forget callbacks held since before `before` for sids no text of ours ever got."""
    return tx.run("DELETE FROM sms_early_callbacks WHERE received_at < ?", (before,)).rowcount


def hold_early_callback(tx: Tx, sid: str, status: str, error_code: int | None) -> None:
    """A callback for a sid not recorded yet (the create answer is still on its way)."""
    tx.run(
        "INSERT INTO sms_early_callbacks (sid, status, error_code, received_at) VALUES (?, ?, ?, ?)",
        (sid, status, error_code, tx.now),
    )


def take_early_callbacks(tx: Tx, sid: str) -> list[Row]:
    rows = tx.all("SELECT status, error_code FROM sms_early_callbacks WHERE sid = ? ORDER BY n", (sid,))
    tx.run("DELETE FROM sms_early_callbacks WHERE sid = ?", (sid,))
    return rows


def get_many(tx: Tx, message_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_MESSAGE} FROM sms_messages WHERE id IN ({{in}}) ORDER BY n", message_ids)


def for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_MESSAGE} FROM sms_messages WHERE order_id IN ({{in}}) ORDER BY n", order_ids)


def for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_MESSAGE} FROM sms_messages WHERE job_id IN ({{in}}) ORDER BY n", job_ids)
