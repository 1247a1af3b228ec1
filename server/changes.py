"""The server's change log: every write to an entity a device may replicate appends its
sequence number here, in the same transaction. Sync pull pages through it by `seq`."""

from __future__ import annotations

from server.store import Tx


def touch(tx: Tx, entity: str, entity_id: str, job_id: str | None) -> None:
    tx.run(
        "INSERT INTO changes (entity, entity_id, job_id, at) VALUES (?, ?, ?, ?)",
        (entity, entity_id, job_id, tx.now),
    )
