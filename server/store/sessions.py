"""Browser sessions of the office's pages, kept in the store so they outlive a restart of the
server (and, on several workers, are one set for all of them). Keyed by the random id in the
session cookie; each row says when it expires."""

from __future__ import annotations

from server.store.db import Row, Tx


def get(tx: Tx, session_id: str) -> Row | None:
    return tx.one("SELECT data, expires_at FROM web_sessions WHERE id = ? AND expires_at > ?", (session_id, tx.now))


def put(tx: Tx, session_id: str, data: bytes, expires_at: str) -> None:
    tx.run(
        "INSERT INTO web_sessions (id, data, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        (session_id, data, expires_at),
    )


def renew(tx: Tx, session_id: str, expires_at: str) -> None:
    tx.run("UPDATE web_sessions SET expires_at = ? WHERE id = ?", (expires_at, session_id))


def delete(tx: Tx, session_id: str) -> None:
    tx.run("DELETE FROM web_sessions WHERE id = ?", (session_id,))


def delete_all(tx: Tx) -> None:
    tx.run("DELETE FROM web_sessions")


def purge_expired(tx: Tx) -> int:
    return tx.run("DELETE FROM web_sessions WHERE expires_at <= ?", (tx.now,)).rowcount
