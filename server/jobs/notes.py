"""Notes a technician writes on a job (from the device, often offline)."""

from __future__ import annotations

import msgspec

from server.errors import RuleViolation
from server.jobs import store
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor, Timestamp


class Note(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str
    job_id: str
    text: str
    author: Actor
    created_at: Timestamp
    client_at: Timestamp | None = None


def to_note(row: Row) -> Note:
    return Note(
        id=row["id"],
        job_id=row["job_id"],
        text=row["text"],
        author=Actor(kind=row["author_kind"], id=row["author_id"]),
        created_at=row["created_at"],
        client_at=row["client_at"],
    )


def add(tx: Tx, actor: Actor, job: Row, uid: str, text: str, client_at: str | None = None) -> Note:
    if store.notes_by_ids(tx, [uid]):
        raise RuleViolation("duplicate_uid", f"a note with uid {uid} already exists")
    store.insert_note(tx, uid, job["id"], text, actor.kind, actor.id, client_at)
    trail.record(tx, "job.note_added", actor, {"noteId": uid, "text": text}, job_id=job["id"], client_at=client_at)
    return to_note(store.notes_by_ids(tx, [uid])[0])
