from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from server.errors import RuleViolation
from server.store import Database, Tx
from server.store.migrations import migrate, migrations


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(tmp_path / "store.db")
    await database.open()
    yield database
    await database.close()


async def test_the_file_is_wal_with_full_sync_and_foreign_keys(db: Database) -> None:
    def pragmas(tx: Tx) -> tuple[str, int, int]:
        return (
            tx.one("PRAGMA journal_mode")[0],  # type: ignore[index]
            tx.one("PRAGMA synchronous")[0],  # type: ignore[index]
            tx.one("PRAGMA foreign_keys")[0],  # type: ignore[index]
        )

    journal, synchronous, foreign_keys = await db.write(pragmas)
    assert journal == "wal"
    assert synchronous == 2  # FULL
    assert foreign_keys == 1
    with pytest.raises(sqlite3.IntegrityError):
        await db.write(
            lambda tx: tx.run(
                "INSERT INTO devices (id, technician_id, token_hash, created_at) VALUES ('d', 'nobody', 'h', 'now')"
            )
        )


async def test_migrations_are_recorded_and_run_once(db: Database) -> None:
    names = await db.read(lambda tx: [r["name"] for r in tx.all("SELECT name FROM _sqlite_migrations")])
    assert names == [m.name for m in migrations._migrations]
    assert migrate(db.path) == []


async def test_readers_cannot_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await db.read(lambda tx: tx.run("DELETE FROM customers"))


async def test_a_failed_unit_leaves_nothing_and_runs_no_hooks(db: Database) -> None:
    ran: list[str] = []

    def unit(tx: Tx) -> None:
        tx.run(
            "INSERT INTO technicians (id, name, created_at, updated_at) VALUES ('tech_1', 'Sam', ?, ?)",
            (tx.now, tx.now),
        )
        tx.after_commit.append(lambda: ran.append("hook"))
        raise RuleViolation("nope", "refused")

    with pytest.raises(RuleViolation):
        await db.write(unit)
    assert ran == []
    assert await db.read(lambda tx: tx.all("SELECT * FROM technicians")) == []


async def test_a_savepoint_undoes_only_its_own_work(db: Database) -> None:
    ran: list[str] = []

    def insert(tx: Tx, tech_id: str) -> None:
        tx.run(
            "INSERT INTO technicians (id, name, created_at, updated_at) VALUES (?, 'x', ?, ?)",
            (tech_id, tx.now, tx.now),
        )
        tx.after_commit.append(lambda: ran.append(tech_id))

    def unit(tx: Tx) -> None:
        insert(tx, "kept")
        with pytest.raises(RuleViolation), tx.savepoint("inner"):
            insert(tx, "undone")
            raise RuleViolation("nope", "refused")
        insert(tx, "also_kept")

    await db.write(unit)
    ids = await db.read(lambda tx: [r["id"] for r in tx.all("SELECT id FROM technicians ORDER BY n")])
    assert ids == ["kept", "also_kept"]
    assert ran == ["kept", "also_kept"]


async def test_concurrent_writes_are_serialised(db: Database) -> None:
    """Read-modify-write units never interleave: no lost update under concurrency."""
    await db.write(
        lambda tx: tx.run(
            "INSERT INTO technicians (id, name, created_at, updated_at) VALUES ('t', '0', ?, ?)",
            (tx.now, tx.now),
        )
    )

    def bump(tx: Tx) -> None:
        current = int(tx.one("SELECT name FROM technicians WHERE id = 't'")["name"])  # type: ignore[index]
        tx.run("UPDATE technicians SET name = ? WHERE id = 't'", (str(current + 1),))

    await asyncio.gather(*(db.write(bump) for _ in range(200)))
    assert await db.read(lambda tx: tx.one("SELECT name FROM technicians")["name"]) == "200"  # type: ignore[index]
