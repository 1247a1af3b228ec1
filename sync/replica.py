"""The device's one SQLite file: the replica of the server's state in the technician's scope,
the outbox of mutations made here, and what the device needs to talk to its server.

Every local mutation is written in one transaction (the outbox row and the next id), with
`synchronous=FULL`, so a mutation the technician saw accepted survives the app being killed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from sync import protocol as p

migrations = Migrations("flint-device")


@migrations(name="0001_replica")
def _replica(db: Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("entities").create({"entity": str, "id": str, "data": str}, pk=("entity", "id"))
    db.table("outbox").create(
        {
            "id": int,
            "name": str,
            "mutation": str,
            "client_at": str,
            "state": str,
            "code": str,
            "detail": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name", "mutation", "state", "created_at"},
    )
    db.table("outbox").create_index(["state", "id"])


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    name: str
    mutation: p.BaseMutation
    state: str
    code: str | None
    detail: str | None
    created_at: str


_decode_mutation = msgspec.json.Decoder(p.Mutation).decode
_encode = msgspec.json.Encoder().encode


class NotEnrolled(Exception):
    """The device file has no server and token yet: run `flint device enroll`."""


class Replica:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        self.db = Database(conn)
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Replica]:
        with self.db.atomic():
            yield self

    # What the device knows about its server.

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise NotEnrolled(f"this device is not enrolled ({self.path}); run `flint device enroll`")
        return value

    # The outbox.

    def queue(self, build: Any, now: str) -> Outgoing:
        """Number and store a mutation made here, in one transaction. `build(id)` makes it."""
        with self.transaction():
            next_id = int(self.get("next_mutation_id") or "1")
            mutation: p.BaseMutation = build(next_id)
            name = type(mutation).__struct_config__.tag
            self.db.execute(
                "INSERT INTO outbox (id, name, mutation, client_at, state, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                [next_id, name, _encode(mutation).decode(), mutation.client_at, now],
            )
            self.put("next_mutation_id", str(next_id + 1))
        return self.outgoing(next_id)

    def outgoing(self, mutation_id: int) -> Outgoing:
        row = self.db.execute(
            "SELECT id, name, mutation, state, code, detail, created_at FROM outbox WHERE id = ?",
            [mutation_id],
        ).fetchone()
        return _outgoing(row)

    def outbox(self, states: Iterable[str] = ("pending", "rejected")) -> list[Outgoing]:
        wanted = list(states)
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT id, name, mutation, state, code, detail, created_at FROM outbox WHERE state IN ({marks})"  # noqa: S608
            " ORDER BY id",
            wanted,
        ).fetchall()
        return [_outgoing(row) for row in rows]

    def pending(self, limit: int | None = None) -> list[Outgoing]:
        found = self.outbox(["pending"])
        return found if limit is None else found[:limit]

    def settle(self, result: p.MutationResult) -> None:
        """The server answered for a mutation: applied ones leave the outbox, rejected ones stay
        in it, with their reason, out of the shown state."""
        if result.status == "applied":
            self.db.execute("DELETE FROM outbox WHERE id = ?", [result.id])
        else:
            self.db.execute(
                "UPDATE outbox SET state = 'rejected', code = ?, detail = ? WHERE id = ?",
                [result.code, result.detail, result.id],
            )

    def settle_up_to(self, last_mutation_id: int, rejected: dict[int, p.Rejection]) -> None:
        """From a pull: the server has every mutation up to `last_mutation_id`."""
        for outgoing in self.pending():
            if outgoing.id > last_mutation_id:
                break
            rejection = rejected.get(outgoing.id)
            if rejection is None:
                self.settle(p.MutationResult(id=outgoing.id, status="applied"))
            else:
                self.settle(
                    p.MutationResult(id=outgoing.id, status="rejected", code=rejection.code, detail=rejection.detail)
                )

    # The replica of the server's state.

    def apply(self, changes: Iterable[p.Change], reset: bool) -> None:
        if reset:
            self.db.execute("DELETE FROM entities")
        for change in changes:
            if change.op == "put":
                self.db.execute(
                    "INSERT INTO entities (entity, id, data) VALUES (?, ?, ?)"
                    " ON CONFLICT (entity, id) DO UPDATE SET data = excluded.data",
                    [change.entity, change.id, json.dumps(change.data)],
                )
            else:
                self.db.execute("DELETE FROM entities WHERE entity = ? AND id = ?", [change.entity, change.id])

    def entities(self, entity: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT data FROM entities WHERE entity = ? ORDER BY rowid", [entity]).fetchall()
        return [json.loads(row[0]) for row in rows]


def _outgoing(row: Any) -> Outgoing:
    return Outgoing(
        id=row[0],
        name=row[1],
        mutation=_decode_mutation(row[2]),
        state=row[3],
        code=row[4],
        detail=row[5],
        created_at=row[6],
    )
