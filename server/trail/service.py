from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.store import Tx
from server.trail import store
from server.trail.types import Trail, TrailEvent
from server.wire import Actor

TOPIC = "trail"  # `Database.listeners` hear this once a transaction that wrote events commits


def record(
    tx: Tx,
    type: str,
    actor: Actor,
    data: dict[str, Any],
    *,
    job_id: str | None,
    order_id: str | None = None,
    client_at: str | None = None,
) -> int:
    """Append one event; call it inside the transaction that makes the change it describes.
    Whoever listens to `TOPIC` (the dispatch event stream) is told once it is on disk; the
    transaction's finishing steps (the account events, `server.events`) see it by its mark."""
    seq = store.append(tx, job_id=job_id, order_id=order_id, type=type, actor=actor, data=data, client_at=client_at)
    tx.marks.add(TOPIC)
    tx.notify(TOPIC)
    return seq


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    actor: Actor
    data: dict[str, Any]
    job_id: str | None
    order_id: str | None = None
    client_at: str | None = None


def record_many(tx: Tx, events: Sequence[NewEvent]) -> None:
    """Append several events at once, in order: `record` for a batch (a device's push)."""
    if not events:
        return
    store.append_many(
        tx, [(e.job_id, e.order_id, e.type, e.actor.kind, e.actor.id, e.client_at, e.data) for e in events]
    )
    tx.marks.add(TOPIC)
    tx.notify(TOPIC)


def for_job(tx: Tx, job_id: str) -> Trail:
    events = [
        TrailEvent(
            seq=row["seq"],
            at=row["at"],
            type=row["type"],
            actor=Actor(kind=row["actor_kind"], id=row["actor_id"]),
            data=store.decode_data(row["data"]),
            client_at=row["client_at"],
        )
        for row in store.for_job(tx, job_id)
    ]
    return Trail(job_id=job_id, events=events)
