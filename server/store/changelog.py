"""The change log: every write to an entity a device may replicate appends a row here, in the
same transaction. Sync pull pages through it by `seq`.

`txn` groups the rows of one transaction (it is the `seq` of its first row), so a page can end
on a transaction's edge and never show half of one. `moved_from` marks an entity moving between
technicians' scopes: for a job (assigned, reassigned, cancelled), the technician who had it
before; for an order moved to another job, the job it left ("" for none). The one who lost it
is told to drop it; the one who gained it gets it whole.
"""

from __future__ import annotations

from datetime import timedelta

from server.clock import format_time, parse_time
from server.store.db import Row, Tx

KEPT_FOR = timedelta(days=90)
_CHANGE = "seq, entity, entity_id, job_id, moved_from, txn"


def touch(tx: Tx, entity: str, entity_id: str, job_id: str | None, moved_from: str | None = None) -> int:
    """Append a change; returns its sequence number. The same entity changed again in the same
    transaction adds nothing (a pull shows each entity as it is once the transaction commits),
    unless the change moves it between scopes."""
    said = ("changed", entity, entity_id, job_id)
    if moved_from is None and said in tx.memo:
        seq: int = tx.memo[said]
        return seq
    cursor = tx.run(
        "INSERT INTO changes (entity, entity_id, job_id, at, moved_from, txn) VALUES (?, ?, ?, ?, ?, ?)",
        (entity, entity_id, job_id, tx.now, moved_from, tx.txn),
    )
    made = cursor.lastrowid
    assert made is not None
    if tx.txn is None:
        tx.txn = made
        tx.run("UPDATE changes SET txn = seq WHERE seq = ?", (made,))
    if moved_from is None:
        tx.memo[said] = made
    return made


def after(tx: Tx, seq: int, limit: int) -> list[Row]:
    return tx.all(f"SELECT {_CHANGE} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))


def rest_of_txn(tx: Tx, txn: int, after_seq: int) -> list[Row]:
    return tx.all(f"SELECT {_CHANGE} FROM changes WHERE txn = ? AND seq > ? ORDER BY seq", (txn, after_seq))


def bounds(tx: Tx) -> tuple[int, int]:
    """(oldest kept seq - 1, newest seq): a cursor below the first is too old to resume from."""
    row = tx.one("SELECT coalesce(min(seq), 1) - 1 AS floor, coalesce(max(seq), 0) AS top FROM changes")
    assert row is not None
    return int(row["floor"]), int(row["top"])


def purge_old(tx: Tx) -> int:
    """A device whose cursor is older than what is kept gets a fresh snapshot (`reset`)."""
    before = format_time(parse_time(tx.now) - KEPT_FOR)
    return tx.run("DELETE FROM changes WHERE at < ?", (before,)).rowcount
