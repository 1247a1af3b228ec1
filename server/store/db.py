"""One writer, many readers, over one SQLite file in WAL mode.

A unit of work is a plain function `unit(tx) -> T`. `Database.write` runs it on the writer
connection's thread between `BEGIN IMMEDIATE` and `COMMIT`, so a whole request, or a whole push
of 500 mutations, costs one hop to that thread instead of one per statement, and no other
unit can interleave with it. Readers run units inside a read transaction, so a page they build
is one consistent snapshot.

`Database.finishing` holds the steps every write unit ends with, in its own transaction just
before `COMMIT` (the account events of what the unit changed, rendered once per object). The
wiring adds them; the store only runs them.

aiosqlite gives each connection its own thread and a queue of calls; `Connection._execute`
queues a function to run there with the connection to hand. It is the one private call this
module makes, kept here and pinned by the lock file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from server.clock import Clock, format_time, system_clock
from server.store.migrations import migrate

T = TypeVar("T")
Row = sqlite3.Row

READERS = 4  # reader connections: the API's reads share them (the event streams read through one)
GROUP = 64  # at most this many queued write units share one transaction


@dataclass
class Tx:
    """A transaction in progress: the connection, the moment it began, and what to do after it."""

    conn: sqlite3.Connection
    now: str
    writable: bool
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    listeners: Listeners | None = None
    txn: int | None = None  # the change-log group of this transaction, once it has one
    memo: dict[Any, Any] = field(default_factory=dict)  # worked out in this transaction; see Savepoint
    # What this transaction wrote that a finishing step looks at (e.g. "trail"). A savepoint that
    # rolls back leaves its marks: a step reads the store, which has the truth, and finds less.
    marks: set[str] = field(default_factory=set)

    def notify(self, topic: str) -> None:
        """Tell whoever listens to `topic` (see `Database.listeners`) once this commits."""
        listeners = self.listeners
        if listeners is not None:
            self.after_commit.append(lambda: listeners.notify(topic))

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def all_in(self, sql: str, values: Sequence[Any], *before: Any) -> list[Row]:
        """Rows for `sql` whose `{in}` stands for one placeholder per value (none: no rows).
        `before` binds to placeholders ahead of the list."""
        if not values:
            return []
        return self.all(sql.replace("{in}", ",".join("?" * len(values))), [*before, *values])

    def insert(self, table: str, row: dict[str, Any]) -> None:
        """`INSERT INTO table` the columns of `row`; names come from the store's code, never a caller."""
        marks = ", ".join("?" * len(row))
        self.conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values()))

    def run(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def many(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        self.conn.executemany(sql, rows)

    def savepoint(self, name: str) -> Savepoint:
        return Savepoint(self, name)


class Savepoint:
    """`with tx.savepoint("m"):` undoes only its own statements when the block raises, and
    forgets the after-commit hooks they registered and anything memoised in the transaction."""

    def __init__(self, tx: Tx, name: str) -> None:
        self.tx = tx
        self.name = name
        self._hooks = 0

    def __enter__(self) -> Savepoint:
        self._hooks = len(self.tx.after_commit)
        self.tx.conn.execute(f"SAVEPOINT {self.name}")
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn = self.tx.conn
        if exc_type is not None:
            del self.tx.after_commit[self._hooks :]
            self.tx.memo.clear()
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {self.name}")
        if conn.in_transaction:
            conn.execute(f"RELEASE {self.name}")


class Listeners:
    """Who wants to hear that a topic changed: workers woken by a commit, not by polling."""

    def __init__(self) -> None:
        self._by_topic: dict[str, list[Callable[[], None]]] = {}

    def add(self, topic: str, callback: Callable[[], None]) -> None:
        self._by_topic.setdefault(topic, []).append(callback)

    def notify(self, topic: str) -> None:
        for callback in self._by_topic.get(topic, []):
            callback()


def _configure(conn: sqlite3.Connection, *, readonly: bool) -> sqlite3.Connection:
    conn.isolation_level = None  # transactions are begun explicitly
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA synchronous = FULL")
    return conn


Finish = Callable[[Tx], None]


def _in_write_tx(
    conn: sqlite3.Connection,
    now: str,
    unit: Callable[[Tx], T],
    listeners: Listeners | None = None,
    finishing: Sequence[Finish] = (),
) -> tuple[T, Tx]:
    tx = Tx(conn, now, writable=True, listeners=listeners)
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = unit(tx)
        for finish in finishing:
            finish(tx)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result, tx


Outcome = tuple[Any, Tx] | BaseException


def _in_group_tx(
    conn: sqlite3.Connection,
    units: Sequence[tuple[str, Callable[[Tx], Any]]],
    listeners: Listeners | None,
    finishing: Sequence[Finish],
) -> list[Outcome]:
    """Several units in one transaction, each in a savepoint of its own (group commit): a unit
    that raises is undone alone; one `COMMIT` (one fsync) makes them all durable at once. If the
    transaction itself fails (SQLite rolls a whole transaction back on a full disk or an I/O
    error), every unit of the group fails with it: none is acknowledged that is not on disk."""
    outcomes: list[Outcome] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for now, unit in units:
            tx = Tx(conn, now, writable=True, listeners=listeners)
            conn.execute("SAVEPOINT unit")
            try:
                result = unit(tx)
                for finish in finishing:
                    finish(tx)
            except Exception as exc:
                if not conn.in_transaction:
                    raise  # the whole transaction is gone, the units before this one with it
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
                outcomes.append(exc)
                continue
            conn.execute("RELEASE unit")
            outcomes.append((result, tx))
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if not isinstance(exc, Exception):
            raise
        return [exc] * len(units)
    return outcomes


def _in_read_tx(conn: sqlite3.Connection, now: str, unit: Callable[[Tx], T]) -> T:
    conn.execute("BEGIN")
    try:
        return unit(Tx(conn, now, writable=False))
    finally:
        conn.execute("ROLLBACK")


async def _on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(conn's sqlite3 connection, *args)` on the aiosqlite connection's own thread."""
    result: T = await conn._execute(fn, conn._conn, *args)  # type: ignore[no-untyped-call]
    return result


def connect(path: str | Path) -> sqlite3.Connection:
    """A plain writer connection, for work done before the server's loop runs (demo seeding)."""
    return _configure(sqlite3.connect(path), readonly=False)


def write_sync(
    conn: sqlite3.Connection,
    now: str,
    unit: Callable[[Tx], T],
    listeners: Listeners | None = None,
    finishing: Sequence[Finish] = (),
) -> T:
    """`Database.write` without the thread: the unit, its finishing steps, its transaction, its hooks."""
    result, tx = _in_write_tx(conn, now, unit, listeners, finishing)
    for hook in tx.after_commit:
        hook()
    return result


class Database:
    def __init__(self, path: str | Path, clock: Clock = system_clock, readers: int = READERS) -> None:
        self.path = str(path)
        self.clock = clock
        self.readers = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self.listeners = Listeners()
        self.finishing: list[Finish] = []  # run at the end of every write unit, before COMMIT
        self._queued: list[tuple[str, Callable[[Tx], Any], asyncio.Future[tuple[Any, Tx]]]] = []
        self._draining = False

    def now(self) -> str:
        return format_time(self.clock())

    async def open(self) -> None:
        """Apply pending migrations, then open the writer and the readers."""
        await asyncio.to_thread(migrate, self.path)
        self._writer = await aiosqlite.connect(self.path)
        await _on_thread(self._writer, partial(_configure, readonly=False))
        for _ in range(self.readers):
            reader = await aiosqlite.connect(self.path)
            await _on_thread(reader, partial(_configure, readonly=True))
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)

    async def close(self) -> None:
        conns = [*self._all_readers, *([self._writer] if self._writer else [])]
        self._writer = None
        self._all_readers.clear()
        for conn in conns:
            with suppress(Exception):
                await conn.close()

    async def write(self, unit: Callable[[Tx], T]) -> T:
        """Run `unit` as one atomic unit of work under `BEGIN IMMEDIATE`; its after-commit hooks run
        once it is on disk. Units that arrive while the writer is busy are committed together
        (group commit): each in a savepoint of its own, one fsync for all of them."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        done: asyncio.Future[tuple[Any, Tx]] = asyncio.get_running_loop().create_future()
        self._queued.append((self.now(), unit, done))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        result, tx = await done
        for hook in tx.after_commit:
            hook()
        return result  # type: ignore[no-any-return]

    async def _drain(self) -> None:
        try:
            while self._queued:
                group, self._queued = self._queued[:GROUP], self._queued[GROUP:]
                writer = self._writer
                if writer is None:
                    outcomes: list[Outcome] = [RuntimeError("database is not open")] * len(group)
                else:
                    units = [(now, unit) for now, unit, _ in group]
                    try:
                        outcomes = await _on_thread(writer, _in_group_tx, units, self.listeners, tuple(self.finishing))
                    except Exception as exc:  # the writer thread itself failed
                        outcomes = [exc] * len(group)
                for (_, _, done), outcome in zip(group, outcomes, strict=True):
                    if done.done():
                        continue  # its caller went away (cancelled)
                    if isinstance(outcome, BaseException):
                        done.set_exception(outcome)
                    else:
                        done.set_result(outcome)
        finally:
            self._draining = False

    async def read(self, unit: Callable[[Tx], T]) -> T:
        """Run `unit` on a reader, inside one read transaction (one snapshot)."""
        reader = await self._readers.get()
        try:
            return await _on_thread(reader, _in_read_tx, self.now(), unit)
        finally:
            self._readers.put_nowait(reader)
