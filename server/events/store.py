from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx

_EVENT = "e.n, e.id, e.type, e.job_id, e.created_at, o.data"
_JOINED = "events e JOIN event_objects o ON o.n = e.object_n"


def published(tx: Tx) -> int:
    """The trail's last event already made into account events."""
    row = tx.one("SELECT trail_seq FROM events_published WHERE one = 1")
    return int(row["trail_seq"]) if row else 0


def set_published(tx: Tx, trail_seq: int) -> None:
    tx.run(
        "INSERT INTO events_published (one, trail_seq) VALUES (1, ?)"
        " ON CONFLICT (one) DO UPDATE SET trail_seq = excluded.trail_seq",
        (trail_seq,),
    )


def insert_object(tx: Tx, kind: str, object_id: str, data: str) -> int:
    cursor = tx.run(
        "INSERT INTO event_objects (kind, object_id, data, created_at) VALUES (?, ?, ?, ?)",
        (kind, object_id, data, tx.now),
    )
    n = cursor.lastrowid
    assert n is not None
    return n


def insert_events(tx: Tx, rows: Sequence[tuple[str, int, str, str | None, int, str]]) -> None:
    """Rows of (id, trail_seq, type, job_id, object_n, created_at), in the order they happened."""
    tx.many("INSERT INTO events (id, trail_seq, type, job_id, object_n, created_at) VALUES (?, ?, ?, ?, ?, ?)", rows)


def position_of(tx: Tx, event_id: str) -> int | None:
    row = tx.one("SELECT n FROM events WHERE id = ?", (event_id,))
    return None if row is None else int(row["n"])


def get(tx: Tx, event_id: str) -> Row | None:
    return tx.one(f"SELECT {_EVENT} FROM {_JOINED} WHERE e.id = ?", (event_id,))


def page(tx: Tx, after: int, limit: int, type: str | None, job_id: str | None) -> list[Row]:
    """Events past position `after`, oldest first. One writer hands out `n` inside its
    transactions, so events become visible in `n` order and a reader never skips one."""
    where: list[str] = ["e.n > ?"]
    params: list[Any] = [after]
    if type is not None:
        where.append("e.type = ?")
        params.append(type)
    if job_id is not None:
        where.append("e.job_id = ?")
        params.append(job_id)
    return tx.all(
        f"SELECT {_EVENT} FROM {_JOINED} WHERE {' AND '.join(where)} ORDER BY e.n LIMIT ?", [*params, limit + 1]
    )


def purge_before(tx: Tx, before: str) -> int:
    """Forget events made before `before`, and the objects they carried (made in the same
    transactions, so at the same time)."""
    gone = tx.run("DELETE FROM events WHERE created_at < ?", (before,)).rowcount
    tx.run("DELETE FROM event_objects WHERE created_at < ?", (before,))
    return gone
