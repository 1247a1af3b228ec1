"""The server's change log: every write to an entity a device may replicate appends a row here,
in the same transaction. Sync pull pages through it by `seq`.

`txn` groups the rows of one transaction (it is the `seq` of its first row), so a page can end
on a transaction's edge and never show half of one. `moved_from` marks a job moving between
technicians' scopes (assigned, reassigned, cancelled): who had it before ("" for nobody). The
one who lost it is told to drop it; the one who gained it gets it whole.
"""

from __future__ import annotations

from server.store import Tx


def touch(tx: Tx, entity: str, entity_id: str, job_id: str | None, moved_from: str | None = None) -> None:
    cursor = tx.run(
        "INSERT INTO changes (entity, entity_id, job_id, at, moved_from, txn) VALUES (?, ?, ?, ?, ?, ?)",
        (entity, entity_id, job_id, tx.now, moved_from, tx.txn),
    )
    if tx.txn is None:
        tx.txn = cursor.lastrowid
        tx.run("UPDATE changes SET txn = seq WHERE seq = ?", (tx.txn,))
