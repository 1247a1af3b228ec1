"""Pushes, end to end over loopback HTTP, and what they are measured against in the same run.

- The push rate: `order.addLineItem` mutations in pushes of 500 over ten orders.
- The storage floor: every row those pushes wrote (line items, trail events, account events and
  the objects they carry, change-log rows, mutation results) inserted again by one `executemany`
  a table into a fresh store with the same schema and indexes, one transaction, synchronous=FULL:
  what it costs SQLite to hold exactly what a push holds, with no logic at all. Beside it, the
  narrower floor earlier benches used: the line-item rows alone into a bare table.
- Pushing onto an order with 10,000 lines against pushing onto an empty one, batch by batch in
  turn, so both see the same machine at the same moments.
- 200 devices pushing 25 add-ons each, all at once: each push's time, p50 and p99.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Phone, Server, add_ons, customer, job_with_order, line, office, ok, phone, push_body
from bench.harness import summary_ms as summarize
from server.store.migrations import migrate

PUSH_TABLES = {
    "line_items": "added_by_kind = 'device'",
    "trail_events": "actor_kind = 'device'",
    "changes": "1",
    "sync_mutations": "1",
    "events": "1",
    "event_objects": "1",
}


def push_rate(server_dir: Path | None, mutations: int, batch: int = 500) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "flint.db"
        with Server(db, server_dir) as server, office(server) as api:
            device = phone(api)
            who = customer(api)
            order_ids = [job_with_order(api, who, device.technician_id, n)[1]["id"] for n in range(10)]
            before = _counts(db)
            bodies = [
                push_body(device, add_ons(order_ids, i + 1, min(batch, mutations - i)))
                for i in range(0, mutations, batch)
            ]
            with httpx.Client(base_url=server.url, headers=device.headers, timeout=120) as client:
                started = time.perf_counter()
                for body in bodies:
                    ok(client.post("/v1/sync/push", json=body))
                seconds = time.perf_counter() - started
            rss = server.rss_mb()
        rate = mutations / seconds
        floor_all = _floor_of_rows(db, before, Path(scratch))
        floor_lines = _floor_of_lines(mutations, Path(scratch))
    return {
        "mutations": mutations,
        "seconds": round(seconds, 2),
        "rate": round(rate),
        "floor_rows_rate": round(mutations / floor_all),
        "floor_lines_rate": round(floor_lines),
        "rss_mb": round(rss, 1),
    }


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            t: conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0]
            for t in PUSH_TABLES
            if t in tables
        }
    finally:
        conn.close()


def _floor_of_rows(db: Path, before: dict[str, int], scratch: Path) -> float:
    """Seconds to insert every row the pushes wrote, one executemany a table, into a fresh store."""
    source = sqlite3.connect(db)
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for table, where in PUSH_TABLES.items():
        if table not in before:
            continue
        cursor = source.execute(f"SELECT * FROM {table} WHERE rowid > ? AND {where}", (before[table],))
        rows[table] = ([d[0] for d in cursor.description], cursor.fetchall())
    source.close()
    fresh = scratch / f"floor-{uuid.uuid4().hex}.db"
    migrate(str(fresh))
    conn = sqlite3.connect(fresh, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = OFF")  # the rows they point at are not copied
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for table, (columns, data) in rows.items():
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", data)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def _floor_of_lines(count: int, scratch: Path) -> float:
    """Rows per second for one executemany of line-item rows into a bare table (the narrow floor)."""
    conn = sqlite3.connect(scratch / f"lines-{uuid.uuid4().hex}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE line_items (n INTEGER PRIMARY KEY, order_id TEXT, uid TEXT, name TEXT, quantity INTEGER,"
        " unit_amount INTEGER, kind TEXT, added_by_kind TEXT, added_by_id TEXT, created_at TEXT,"
        " UNIQUE (order_id, uid))"
    )
    data = [
        (f"ord_{n % 10}", str(uuid.uuid4()), f"part {n}", 1, 100 + n % 50, "addon", "device", "dev_1", "2026-05-01")
        for n in range(count)
    ]
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, added_by_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        data,
    )
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return count / seconds


def big_order(server_dir: Path | None, mutations: int, lines: int = 10_000, batch: int = 500) -> dict[str, Any]:
    """Pushes onto an order with `lines` lines and onto an empty one, a batch of each in turn."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(scratch) / "flint.db", server_dir) as server,
        office(server) as api,
    ):
        device = phone(api)
        who = customer(api)
        _, empty = job_with_order(api, who, device.technician_id, 1)
        _, big = job_with_order(api, who, device.technician_id, 2)
        for start in range(0, lines, 500):
            items = [line(f"Fixture {start + n}", 100) for n in range(min(500, lines - start))]
            ok(api.post(f"/v1/orders/{big['id']}/line-items", json={"lineItems": items}))
        times: dict[str, float] = {"empty": 0.0, "big": 0.0}
        next_id = 1
        with httpx.Client(base_url=server.url, headers=device.headers, timeout=120) as client:
            for _ in range(0, mutations, batch):
                for which, order in (("empty", empty), ("big", big)):
                    body = push_body(device, add_ons([order["id"]], next_id, batch))
                    next_id += batch
                    started = time.perf_counter()
                    ok(client.post("/v1/sync/push", json=body))
                    times[which] += time.perf_counter() - started
    done = (mutations // batch) * batch
    return {
        "empty_rate": round(done / times["empty"]),
        "big_rate": round(done / times["big"]),
        "ratio": round(times["big"] / times["empty"], 2),
    }


def devices_at_once(server_dir: Path | None, devices: int = 200, each: int = 25) -> dict[str, Any]:
    """`devices` phones push `each` add-ons at the same moment; how long each push takes."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(scratch) / "flint.db", server_dir) as server,
        office(server) as api,
    ):
        who = customer(api)
        phones: list[tuple[Phone, str]] = []
        for n in range(devices):
            device = phone(api, f"Technician {n}")
            _, order = job_with_order(api, who, device.technician_id, n)
            phones.append((device, order["id"]))
        took = asyncio.run(_burst(server.url, phones, each))
    return {"devices": devices, "each": each, **summarize(took)}


async def _burst(url: str, phones: list[tuple[Phone, str]], each: int) -> list[float]:
    limits = httpx.Limits(max_connections=len(phones), max_keepalive_connections=len(phones))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        gate = asyncio.Event()

        async def one(device: Phone, order_id: str) -> float:
            body = push_body(device, add_ons([order_id], 1, each))
            await gate.wait()
            started = time.perf_counter()
            response = await client.post("/v1/sync/push", json=body, headers=device.headers)
            ok(response)
            return time.perf_counter() - started

        tasks = [asyncio.create_task(one(device, order_id)) for device, order_id in phones]
        await asyncio.sleep(0.2)
        gate.set()
        return list(await asyncio.gather(*tasks))
