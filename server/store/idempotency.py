"""SQL of stored idempotent answers (the rules are `server.web.idempotency`)."""

from __future__ import annotations

from server.store.db import Row, Tx


def find(tx: Tx, scope: str, key: str) -> Row | None:
    return tx.one(
        "SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE scope = ? AND key = ?",
        (scope, key),
    )


def save(tx: Tx, scope: str, key: str, request_hash: str, status: int, body: bytes) -> None:
    tx.run(
        "INSERT OR REPLACE INTO idempotency_keys (scope, key, request_hash, status, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (scope, key, request_hash, status, body, tx.now),
    )


def purge_before(tx: Tx, cutoff: str) -> int:
    return tx.run("DELETE FROM idempotency_keys WHERE created_at <= ?", (cutoff,)).rowcount
