"""Sync push throughput and empty-pull latency, end to end over loopback HTTP.

    python -m bench.sync_push [--mutations 10000] [--batch 500]

Starts `flint serve` on a fresh SQLite file, enrols a device, and pushes `order.addLineItem`
mutations in batches. Beside it, the storage floor: the same rows inserted by one
`executemany` into a fresh SQLite file (WAL, synchronous=FULL) in this same run. Then times
empty pulls (nothing changed since the cursor).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import msgspec

from sync import protocol as p

KEY = "bench-office-key-0123456789abcdefghij"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "FLINT_DB": str(db), "FLINT_API_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def mutations(order_ids: list[str], count: int) -> list[p.BaseMutation]:
    return [
        p.AddLineItem(
            id=n + 1,
            client_at="2026-05-01T09:00:00.000Z",
            args=p.AddLineItemArgs(
                order_id=order_ids[n % len(order_ids)],
                uid=str(uuid.uuid4()),
                name=f"part {n}",
                quantity=1,
                unit_price_money=p.Money(100 + n % 50, "USD"),
            ),
        )
        for n in range(count)
    ]


def storage_floor(rows: int, directory: Path) -> float:
    """Rows per second for one `executemany` of the same line-item rows on a fresh file."""
    conn = sqlite3.connect(directory / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE line_items (n INTEGER PRIMARY KEY, order_id TEXT, uid TEXT, name TEXT, quantity INTEGER,"
        " unit_amount INTEGER, kind TEXT, added_by_kind TEXT, added_by_id TEXT, created_at TEXT,"
        " UNIQUE (order_id, uid))"
    )
    data = [
        (
            f"ord_{n % 10}",
            str(uuid.uuid4()),
            f"part {n}",
            1,
            100 + n % 50,
            "addon",
            "device",
            "dev_1",
            "2026-05-01",
        )
        for n in range(rows)
    ]
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO line_items (order_id, uid, name, quantity, unit_amount, kind, added_by_kind, added_by_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        data,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=p.MAX_PUSH)
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--pulls", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        proc, url = start_server(directory / "flint.db")
        try:
            office = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
            tech = office.post("/v1/technicians", json={"name": "Bench"}).json()
            token = office.post(f"/v1/technicians/{tech['id']}/devices", json={}).json()["token"]
            who = office.post("/v1/customers", json={"name": "B", "phone": "+15555550100", "kind": "commercial"}).json()
            order_ids = []
            for n in range(args.orders):
                job = office.post(
                    "/v1/jobs",
                    json={
                        "customerId": who["id"],
                        "title": f"job {n}",
                        "address": "x",
                        "technicianId": tech["id"],
                    },
                ).json()
                order = office.post(
                    "/v1/orders",
                    json={
                        "lineItems": [
                            {
                                "name": "base",
                                "quantity": 1,
                                "unitPriceMoney": {"amount": 100, "currency": "USD"},
                            }
                        ],
                        "metadata": {"jobId": job["id"]},
                    },
                ).json()
                order_ids.append(order["id"])

            device = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            client_id = str(uuid.uuid4())
            all_mutations = mutations(order_ids, args.mutations)
            bodies = [
                msgspec.json.encode(
                    p.Push(client_id=client_id, schema_version=1, mutations=all_mutations[i : i + args.batch])  # type: ignore[arg-type]
                )
                for i in range(0, len(all_mutations), args.batch)
            ]
            headers = {"Content-Type": "application/json"}
            start = time.perf_counter()
            for body in bodies:
                response = device.post("/v1/sync/push", content=body, headers=headers)
                response.raise_for_status()
            push_seconds = time.perf_counter() - start
            applied = response.json()["lastMutationId"]
            assert applied == args.mutations, applied

            cursor = None
            while True:
                page = device.post(
                    "/v1/sync/pull",
                    json={"clientId": client_id, "schemaVersion": 1, "cursor": cursor, "limit": 1000},
                ).json()
                cursor = page["cursor"]
                if not page["hasMore"]:
                    break
            pull_body = msgspec.json.encode({"clientId": client_id, "schemaVersion": 1, "cursor": cursor})
            timings = []
            for _ in range(args.pulls):
                started = time.perf_counter()
                empty = device.post("/v1/sync/pull", content=pull_body, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert empty.json()["changes"] == []
        finally:
            proc.terminate()
            proc.wait(timeout=20)

        floor = storage_floor(args.mutations, directory)

    rate = args.mutations / push_seconds
    timings.sort()
    print(f"push   {args.mutations} order.addLineItem in batches of {args.batch}: {push_seconds:.2f} s")
    print(f"       {rate:,.0f} mutations/s end to end (target >= 5,000)")
    print(f"floor  one executemany of the same rows on a fresh file: {floor:,.0f} rows/s")
    print(f"ratio  push / floor = {rate / floor:.4f}  (each mutation also writes its trail event,")
    print("       change-log row, order version and result, under a savepoint of its own)")
    print(
        f"pull   empty, {args.pulls} times: p50 {statistics.median(timings):.2f} ms,"
        f" p95 {timings[int(len(timings) * 0.95) - 1]:.2f} ms, max {timings[-1]:.2f} ms (target < 5 ms)"
    )


if __name__ == "__main__":
    main()
