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


def append_many(
    tx: Tx, events: Sequence[tuple[str | None, str | None, str, str, str | None, str | None, dict[str, Any]]]
) -> None:
    """(job_id, order_id, type, actor kind, actor id, client_at, data) each, in order."""
    tx.many(
        "INSERT INTO trail_events (job_id, order_id, at, type, actor_kind, actor_id, client_at, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (job, order, tx.now, kind, actor, by, at, _encode(data).decode())
            for job, order, kind, actor, by, at, data in events
        ],
    )


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


def since(tx: Tx, seq: int) -> list[Row]:
    """Whole events past `seq`, oldest first: what a transaction wrote, read before it commits."""
    return tx.all(
        "SELECT seq, job_id, order_id, at, type, actor_kind, actor_id, client_at, data FROM trail_events"
        " WHERE seq > ? ORDER BY seq",
        (seq,),
    )


def last_events(tx: Tx, limit: int) -> list[Row]:
    """The last `limit` events, oldest first."""
    rows = tx.all(f"SELECT {_STREAMED} FROM trail_events ORDER BY seq DESC LIMIT ?", (limit,))
    rows.reverse()
    return rows


def last_seq(tx: Tx) -> int:
    row = tx.one("SELECT coalesce(max(seq), 0) AS seq FROM trail_events")
    return int(row["seq"]) if row else 0


def last_for_jobs(tx: Tx, job_ids: Sequence[str], quiet: Sequence[str] = ()) -> dict[str, Row]:
    """Each job's latest event, in one query, leaving out the types in `quiet` (a name ending in
    `.*` leaves out a family). With `max()` SQLite takes the bare columns from the row that holds
    the maximum, so each group gives its last event whole."""
    exact = [t for t in quiet if not t.endswith(".*")]
    families = [t[:-1] + "%" for t in quiet if t.endswith(".*")]
    where = "".join(" AND type NOT LIKE ?" for _ in families)
    if exact:
        where += f" AND type NOT IN ({','.join('?' * len(exact))})"
    if not job_ids:
        return {}
    rows = tx.all(
        "SELECT job_id, max(seq) AS seq, at, type, actor_kind, actor_id, client_at, data FROM trail_events"
        f" WHERE job_id IN ({','.join('?' * len(job_ids))}){where} GROUP BY job_id",
        [*job_ids, *families, *exact],
    )
    return {row["job_id"]: row for row in rows}


def decode_data(text: str) -> dict[str, Any]:
    return _decode(text)
