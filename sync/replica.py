"""The device's one SQLite file: the replica of the server's state in the technician's scope,
the outbox of mutations made here, and what the device needs to talk to its server.

Every local mutation is written in one transaction (the outbox row and the next id), with
`synchronous=FULL`, so a mutation the technician saw accepted survives the app being killed.

The file is read defensively: an outbox row that no longer decodes (an older app, a damaged
file) is kept and shown as unreadable, never fatal; entities are decoded where they are used.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
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
    """An outbox row. `mutation` is None when the stored row no longer decodes; `problem` says why."""

    id: int
    name: str
    mutation: p.BaseMutation | None
    state: str
    code: str | None
    detail: str | None
    created_at: str
    client_at: str | None = None
    problem: str | None = None
    loose_args: Any = None  # what still reads of an unreadable row's arguments

    @property
    def args(self) -> Any:
        """The arguments as JSON builtins (camelCase names), as far as they can be read."""
        if self.mutation is not None:
            return msgspec.to_builtins(getattr(self.mutation, "args", None))
        return self.loose_args


_decode_mutation = msgspec.json.Decoder(p.Mutation).decode
_encode = msgspec.json.Encoder().encode
_COLUMNS = "id, name, mutation, state, code, detail, created_at, client_at"


class NotEnrolled(Exception):
    """The device file has no server and token yet: run `flint device enroll`."""


class DeviceFileError(Exception):
    """The device file cannot be used: not a Flint device file, unreadable, or damaged."""


class SentAlready(Exception):
    """A pending mutation that went out in a push whose answer never came: it may be applied."""


class Replica:
    """`create=False` opens only a device file that exists (never enrolled: `NotEnrolled`)
    and neither creates nor migrates anything that is not one."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise NotEnrolled(f"this device is not enrolled ({self.path} does not exist); run `flint device enroll`")
        try:
            if create:
                conn = sqlite3.connect(self.path, isolation_level=None)
            else:
                conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=rw", uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise DeviceFileError(f"cannot open {self.path}: {exc}") from None
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "meta" not in tables and tables:
                raise DeviceFileError(f"{self.path} is not a Flint device file")
            if "meta" not in tables and not create:
                raise NotEnrolled(f"this device is not enrolled ({self.path}); run `flint device enroll`")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self.db = Database(conn)
            migrations.apply(self.db)
        except sqlite3.Error as exc:
            conn.close()
            raise DeviceFileError(f"{self.path} is not a usable Flint device file: {exc}") from None
        except (NotEnrolled, DeviceFileError):
            conn.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Replica]:
        with self.db.atomic():
            yield self

    # What the device knows about its server.

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None or row[0] is None else str(row[0])

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

    def number(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit():
            raise DeviceFileError(f"{self.path} is damaged ({key} is {value[:20]!r}); enrol the device again")
        return int(value)

    # The outbox.

    def queue(self, build: Callable[[int], p.BaseMutation], now: str) -> Outgoing:
        """Number and store a mutation made here, in one transaction. `build(id)` makes it."""
        with self.transaction():
            next_id = self.number("next_mutation_id", 1)
            if next_id < 1 or self.db.execute("SELECT 1 FROM outbox WHERE id = ?", [next_id]).fetchone():
                raise DeviceFileError(f"{self.path} is damaged (mutation {next_id} is taken); enrol the device again")
            mutation = build(next_id)
            name = type(mutation).__struct_config__.tag
            self.db.execute(
                "INSERT INTO outbox (id, name, mutation, client_at, state, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                [next_id, name, _encode(mutation).decode(), mutation.client_at, now],
            )
            self.put("next_mutation_id", str(next_id + 1))
        queued = self.outgoing(next_id)
        assert queued is not None
        return queued

    def outgoing(self, mutation_id: int) -> Outgoing | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", [mutation_id]).fetchone()  # noqa: S608
        return None if row is None else _outgoing(row)

    def outbox(self, states: Iterable[str] = ("pending", "rejected")) -> list[Outgoing]:
        wanted = list(states)
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state IN ({marks}) ORDER BY id",  # noqa: S608
            wanted,
        ).fetchall()
        return [_outgoing(row) for row in rows]

    def pending(self, limit: int | None = None) -> list[Outgoing]:
        found = self.outbox(["pending"])
        return found if limit is None else found[:limit]

    def mark_sent(self, through: int) -> None:
        """Before a push: mutations up to `through` may reach the server from now on."""
        if through > self.number("sent_through", 0):
            self.put("sent_through", str(through))

    def settle(self, result: p.MutationResult) -> Outgoing | None:
        """The server answered for a mutation: applied ones leave the outbox, rejected ones stay
        in it, with their reason, out of the shown state. Returns a newly rejected one."""
        if result.status == "applied":
            self.db.execute("DELETE FROM outbox WHERE id = ?", [result.id])
            return None
        changed = self.db.execute(
            "UPDATE outbox SET state = 'rejected', code = ?, detail = ? WHERE id = ? AND state = 'pending'",
            [result.code, result.detail, result.id],
        ).rowcount
        return self.outgoing(result.id) if changed else None

    def settle_up_to(self, last_mutation_id: int, rejected: dict[int, p.Rejection]) -> list[Outgoing]:
        """From a pull: the server has every mutation up to `last_mutation_id`."""
        newly: list[Outgoing] = []
        for outgoing in self.pending():
            if outgoing.id > last_mutation_id:
                break
            rejection = rejected.get(outgoing.id)
            if rejection is None:
                self.settle(p.MutationResult(id=outgoing.id, status="applied"))
            else:
                result = p.MutationResult(
                    id=outgoing.id, status="rejected", code=rejection.code, detail=rejection.detail
                )
                if (settled := self.settle(result)) is not None:
                    newly.append(settled)
        return newly

    def drop(self, mutation_id: int) -> Outgoing | None:
        """Take back a pending mutation (never sent: the later ones move down one id, so the
        server still sees ids without a gap) or clear a rejected one. None: no such mutation."""
        with self.transaction():
            found = self.outgoing(mutation_id)
            if found is None or found.state not in ("pending", "rejected"):
                return None
            if found.state == "pending" and mutation_id <= self.number("sent_through", 0):
                raise SentAlready(mutation_id)
            self.db.execute("DELETE FROM outbox WHERE id = ?", [mutation_id])
            if found.state == "pending":
                later = [o.id for o in self.pending() if o.id > mutation_id]
                self._renumber([(old, old - 1) for old in later])
                self.put("next_mutation_id", str(self.number("next_mutation_id", 1) - 1))
        return found

    def restart_numbering(self, keep_pending: bool) -> tuple[int, int]:
        """A new client: rejected mutations are the old client's and go; pending ones are
        numbered again from 1 (or dropped). Returns (carried over, dropped)."""
        pending = [o.id for o in self.pending()]
        dropped = 0 if keep_pending else len(pending)
        self.db.execute("DELETE FROM outbox WHERE state != 'pending'")
        if not keep_pending:
            self.db.execute("DELETE FROM outbox")
            pending = []
        self._renumber(list(zip(pending, range(1, len(pending) + 1), strict=True)))
        self.put("next_mutation_id", str(len(pending) + 1))
        self.put("sent_through", None)
        return len(pending), dropped

    def _renumber(self, moves: list[tuple[int, int]]) -> None:
        """Each (old, new) id, lowest first: every new id is at or below its old one."""
        for old, new in sorted(moves):
            if old == new:
                continue
            row = self.db.execute("SELECT mutation FROM outbox WHERE id = ?", [old]).fetchone()
            try:
                self.db.execute(
                    "UPDATE outbox SET id = ?, mutation = ? WHERE id = ?", [new, _with_id(row[0], new), old]
                )
            except sqlite3.IntegrityError:
                raise DeviceFileError(f"{self.path} is damaged (mutation {new} is taken twice)") from None

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

    def raw_entities(self, entity: str) -> list[Any]:
        """The stored text of each entity of a kind, as pull delivered it (or as damage left it)."""
        rows = self.db.execute("SELECT data FROM entities WHERE entity = ? ORDER BY rowid", [entity]).fetchall()
        return [row[0] for row in rows]

    def entities(self, entity: str) -> list[dict[str, Any]]:
        """The entities of a kind that decode as JSON objects; others are left out."""
        found = []
        for raw in self.raw_entities(entity):
            try:
                data = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if isinstance(data, dict):
                found.append(data)
        return found


def _with_id(raw: Any, new_id: int) -> Any:
    """The stored mutation with its id changed, when it is still a JSON object."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return raw
    if not isinstance(data, dict):
        return raw
    data["id"] = new_id
    return json.dumps(data)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _outgoing(row: Any) -> Outgoing:
    row_id, name, raw, state, code, detail, created_at, client_at = row
    text = _text(raw)
    mutation: p.BaseMutation | None = None
    problem: str | None = None
    try:
        decoded = _decode_mutation(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        problem = str(exc).replace("`", "")
    else:
        if isinstance(row_id, int) and row_id >= 1:
            mutation = msgspec.structs.replace(decoded, id=row_id)
            name = type(decoded).__struct_config__.tag
        else:
            problem = f"its id {row_id!r} is not a mutation id"
    return Outgoing(
        id=row_id,
        name=_text(name),
        mutation=mutation,
        state=_text(state),
        code=None if code is None else _text(code),
        detail=None if detail is None else _text(detail),
        created_at=_text(created_at),
        client_at=mutation.client_at if mutation is not None else (None if client_at is None else _text(client_at)),
        problem=problem,
        loose_args=_loose_args(text) if mutation is None else None,
    )


def _loose_args(text: str) -> Any:
    """The arguments of a row that no longer decodes, as far as they still read as JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    args = data.get("args") if isinstance(data, dict) else None
    return args if isinstance(args, dict) else None
