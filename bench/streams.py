"""What keeps the API quick under abuse and under open event streams: figures, not assertions.

    python -m bench.streams [--flood 200000] [--streams 1000] [--reconnects 200] [--samples 400]

Each part starts `flint serve` on a fresh SQLite file seeded with jobs and more than 1,000 trail
events, and times requests from one client while something else loads the server:

1. flood: wrong bearer keys from `--flood` distinct client addresses, each named by a trusted
   proxy (`FLINT_TRUSTED_PROXIES=127.0.0.1`, `X-Forwarded-For`), over 16 connections; beside it
   `/healthz` and `GET /v1/jobs` (the office key, from an address of its own) are timed.
2. streams: `GET /v1/jobs` timed with no event stream open, then with `--streams` open while
   jobs change ten times a second (every stream gets every event).
3. reconnects: `--reconnects` clients open the stream with `?after=0` at once (more than 1,000
   events behind: each is told `event: reset`); how long each waits for it, and `GET /v1/jobs`
   timed meanwhile.

The streams and reconnects are held by a child process (`--hold`), so the timing client does
not share its loop with them. Requests go over raw HTTP/1.1 keep-alive connections: a light
client leaves the two cores of a small machine to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-streams-office-key-0123456789abcdef"
OFFICE = {"Authorization": f"Bearer {KEY}"}
FLOOD_CONNECTIONS = 16
SEED_JOBS = 300  # with three status changes each: 1,200 trail events


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full = {**os.environ, "FLINT_DB": str(db), "FLINT_API_KEY": KEY, "FLINT_BILLING_INTERVAL": "3600", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=full,
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


def seed(url: str) -> list[dict[str, Any]]:
    """Jobs with a trail longer than a reconnect may replay."""
    jobs = []
    with httpx.Client(base_url=url, headers=OFFICE, timeout=30) as api:
        who = api.post("/v1/customers", json={"name": "Ana", "phone": "+15555550100", "kind": "residential"}).json()
        for n in range(SEED_JOBS):
            made = api.post(
                "/v1/jobs",
                json={
                    "customerId": who["id"],
                    "title": f"Job {n}",
                    "address": "1 Elm",
                    "scheduledAt": "2026-05-01T09:00:00Z",
                },
            ).json()
            for status in ("dispatched", "en_route", "on_site"):
                made = api.patch(f"/v1/jobs/{made['id']}", json={"version": made["version"], "status": status}).json()
            jobs.append(made)
    return jobs


class Connection:
    """One HTTP/1.1 keep-alive connection, as little client as a figure needs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers or {}).items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{name:<46} p50 {statistics.median(ms):7.1f} ms   p99 {p99:7.1f} ms   max {ms[-1]:7.1f} ms   (n={len(ms)})"


async def timed(port: int, path: str, headers: dict[str, str], count: int, every: float) -> list[float]:
    connection, found = Connection(port), []
    for _ in range(count):
        began = time.perf_counter()
        status = await connection.get(path, headers)
        found.append(time.perf_counter() - began)
        assert status == 200, status
        await asyncio.sleep(every)
    connection.close()
    return found


async def flood(url: str, addresses: int, samples: int) -> list[str]:
    port = int(url.rsplit(":", 1)[1])
    sent = 0
    done = asyncio.Event()

    async def guesser(first: int) -> None:
        nonlocal sent
        connection = Connection(port)
        for n in range(first, addresses, FLOOD_CONNECTIONS):
            address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
            guess = {"Authorization": f"Bearer {secrets.token_urlsafe(24)}", "X-Forwarded-For": address}
            status = await connection.get("/v1/jobs", guess)
            assert status == 401, status  # one guess per address: never limited, never let in
            sent += 1
        connection.close()

    async def sampling(path: str, headers: dict[str, str]) -> list[float]:
        connection, found = Connection(port), []
        while not done.is_set() or len(found) < samples:
            began = time.perf_counter()
            assert await connection.get(path, headers) == 200
            found.append(time.perf_counter() - began)
            await asyncio.sleep(0.02)
        connection.close()
        return found

    began = time.perf_counter()
    samplers = [
        asyncio.create_task(sampling("/healthz", {})),
        asyncio.create_task(sampling("/v1/jobs", {**OFFICE, "X-Forwarded-For": "192.0.2.1"})),
    ]
    await asyncio.gather(*(guesser(first) for first in range(FLOOD_CONNECTIONS)))
    spent = time.perf_counter() - began
    done.set()
    healthz, jobs = await asyncio.gather(*samplers)
    return [
        f"flood: {sent:,} wrong keys from {addresses:,} addresses in {spent:.1f} s ({sent / spent:,.0f}/s)",
        summary("/healthz during the flood", healthz),
        summary("GET /v1/jobs (office key) during the flood", jobs),
    ]


def hold(url: str, streams: int, after: int | None, seconds: float) -> subprocess.Popen[bytes]:
    """A child process holding `streams` event streams open for `seconds`."""
    args = [sys.executable, "-m", "bench.streams", "--hold", url, "--streams", str(streams), "--for", str(seconds)]
    if after is not None:
        args += ["--after", str(after)]
    return subprocess.Popen(args, stdout=subprocess.PIPE)


async def _held(url: str, streams: int, after: int | None, seconds: float) -> dict[str, Any]:
    port = int(url.rsplit(":", 1)[1])
    query = "" if after is None else f"?after={after}"
    head = [f"GET /v1/dispatch/events{query} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: {OFFICE['Authorization']}"]
    request = "\r\n".join(head) + "\r\n\r\n"
    opened, events, resets = 0, 0, []
    all_open = asyncio.Event()
    began = time.perf_counter()

    async def one() -> None:
        nonlocal opened, events
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request.encode())
        await writer.drain()
        try:
            while line := await reader.readline():
                if line.startswith(b": connected"):  # the server has it open
                    opened += 1
                    if opened == streams:
                        all_open.set()
                elif line.startswith(b"event: trail"):
                    events += 1
                elif line.startswith(b"event: reset"):
                    resets.append(time.perf_counter() - began)
        finally:
            writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(streams)]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await all_open.wait()
    print(json.dumps({"opened": opened}), flush=True)
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"opened": opened, "events": events, "resets": resets}


async def changes(url: str, jobs: list[dict[str, Any]], stop: asyncio.Event, every: float = 0.1) -> int:
    """A job's title changed `1/every` times a second: each change is a trail event for every stream."""
    made = 0
    async with httpx.AsyncClient(base_url=url, headers=OFFICE, timeout=30) as api:
        while not stop.is_set():
            job = jobs[made % len(jobs)]
            answer = await api.patch(f"/v1/jobs/{job['id']}", json={"version": job["version"], "title": f"Job v{made}"})
            jobs[made % len(jobs)] = answer.json()
            made += 1
            await asyncio.sleep(every)
    return made


async def with_streams(url: str, jobs: list[dict[str, Any]], streams: int, samples: int) -> list[str]:
    port = int(url.rsplit(":", 1)[1])
    found = []
    for count in (0, streams):
        holder = hold(url, count, None, seconds=samples * 0.05 + 60) if count else None
        if holder is not None:
            assert holder.stdout is not None
            opened = json.loads(holder.stdout.readline())["opened"]
        stop = asyncio.Event()
        writer = asyncio.create_task(changes(url, jobs, stop))
        times = await timed(port, "/v1/jobs", OFFICE, samples, 0.02)
        stop.set()
        made = await writer
        label = f"GET /v1/jobs, {opened if holder else 0:,} streams open, {made} events"
        found.append(summary(label, times))
        if holder is not None:
            holder.terminate()
            holder.wait()
    return found


async def reconnects(url: str, clients: int, samples: int) -> list[str]:
    port = int(url.rsplit(":", 1)[1])
    holder = hold(url, clients, after=0, seconds=samples * 0.03 + 5)
    times = await timed(port, "/v1/jobs", OFFICE, samples, 0.01)
    out, _ = holder.communicate()
    lines = out.decode().splitlines()
    result = json.loads(lines[-1])
    resets = sorted(result["resets"])
    found = [summary(f"GET /v1/jobs while {clients} reconnect with ?after=0", times)]
    if resets:
        found.append(
            f"{len(resets)} of {result['opened']} reconnects told `event: reset` (more than 1,000 behind);"
            f" the last within {resets[-1] * 1000:.0f} ms of the first connecting"
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.streams")
    parser.add_argument("--flood", type=int, default=200_000, help="distinct client addresses guessing keys")
    parser.add_argument("--streams", type=int, default=1000, help="event streams held open")
    parser.add_argument("--reconnects", type=int, default=200, help="clients reconnecting with ?after=0 at once")
    parser.add_argument("--samples", type=int, default=400, help="timed requests per figure")
    parser.add_argument("--hold", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--after", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--for", dest="seconds", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))

    if args.hold:
        print(json.dumps(asyncio.run(_held(args.hold, args.streams, args.after, args.seconds))), flush=True)
        return

    figures: list[str] = []
    load = os.getloadavg()[0]
    parts: list[tuple[str, dict[str, str], Callable[[str, list[dict[str, Any]]], Awaitable[list[str]]]]] = [
        ("flood", {"FLINT_TRUSTED_PROXIES": "127.0.0.1"}, lambda url, _: flood(url, args.flood, args.samples)),
        ("streams", {}, lambda url, jobs: with_streams(url, jobs, args.streams, args.samples)),
        ("reconnects", {}, lambda url, _: reconnects(url, args.reconnects, args.samples)),
    ]
    with tempfile.TemporaryDirectory() as directory:
        for name, env, run in parts:
            proc, url = start_server(Path(directory) / f"{name}.db", **env)
            try:
                jobs = seed(url)
                figures += asyncio.run(run(url, jobs))  # type: ignore[arg-type]
            finally:
                proc.terminate()
                proc.wait()
    print(
        f"Flint event streams and abuse, {os.cpu_count()} cores, load average {load:.1f} before and"
        f" {os.getloadavg()[0]:.1f} after (`python -m bench.streams --help`)"
    )
    for line in figures:
        print("  " + line)


if __name__ == "__main__":
    main()
