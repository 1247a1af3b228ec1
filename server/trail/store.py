from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from server.store import Row, Tx
from server.wire import Actor

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def append(
    tx: Tx,
    *,
    job_id: str | None,
    order_id: str | None,
    type: str,
    actor: Actor,
    data: dict[str, Any],
    client_at: str | None = None,
) -> int:
    cursor = tx.run(
        "INSERT INTO trail_events (job_id, order_id, at, type, actor_kind, actor_id, client_at, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (job_id, order_id, tx.now, type, actor.kind, actor.id, client_at, _encode(data).decode()),
    )
    seq = cursor.lastrowid
    assert seq is not None
    return seq


def for_job(tx: Tx, job_id: str) -> list[Row]:
    return tx.all(
        "SELECT seq, job_id, at, type, actor_kind, actor_id, client_at, data FROM trail_events"
        " WHERE job_id = ? ORDER BY seq",
        (job_id,),
    )


_STREAMED = "seq, job_id, at, type, actor_kind, actor_id"


def after(tx: Tx, seq: int, limit: int) -> list[Row]:
    """Events past `seq`, oldest first. One writer hands out `seq` inside its transactions, so
    events become visible in `seq` order and reading past the last one seen misses nothing."""
    return tx.all(f"SELECT {_STREAMED} FROM trail_events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))


def last_events(tx: Tx, limit: int) -> list[Row]:
    """The last `limit` events, oldest first."""
    rows = tx.all(f"SELECT {_STREAMED} FROM trail_events ORDER BY seq DESC LIMIT ?", (limit,))
    rows.reverse()
    return rows


def last_seq(tx: Tx) -> int:
    row = tx.one("SELECT coalesce(max(seq), 0) AS seq FROM trail_events")
    return int(row["seq"]) if row else 0


def last_for_jobs(tx: Tx, job_ids: Sequence[str]) -> dict[str, Row]:
    """Each job's latest event, in one query. With `max()` SQLite takes the bare columns from
    the row that holds the maximum, so each group gives its last event whole."""
    rows = tx.all_in(
        "SELECT job_id, max(seq) AS seq, at, type, actor_kind, actor_id, client_at, data FROM trail_events"
        " WHERE job_id IN ({in}) GROUP BY job_id",
        job_ids,
    )
    return {row["job_id"]: row for row in rows}


def decode_data(text: str) -> dict[str, Any]:
    return _decode(text)
