from __future__ import annotations

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


def decode_data(text: str) -> dict[str, Any]:
    return _decode(text)
