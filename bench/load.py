"""Bursts and a steady mix, against a real `flint serve` over loopback HTTP.

- 200 customers paying 200 payment links at the same moment: captures per second, and every
  link captured exactly once (read back from the API).
- 50 devices starting cold at once: each pulls its whole scope (20 jobs with their orders,
  links, texts and notes) page by page; the time to the last page, p50 and p99.
- 50 clients for a minute: the office reading jobs and adding lines, devices pushing and
  pulling, customers opening pay pages; requests per second, p50 and p99, and errors (a 5xx or
  no answer).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import CARD, OFFICE, Phone, Server, add_ons, customer, job_with_order, line, office, ok, phone
from bench.harness import summary_ms as summarize


def payers(server_dir: Path | None, count: int = 200) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(scratch) / "flint.db", server_dir) as server,
        office(server) as api,
    ):
        links = []
        for n in range(count):
            who = customer(api, n)
            made, _ = job_with_order(api, who, None, n, amount=9_900 + n)
            links.append(ok(api.post("/v1/payment-links", json={"name": "Balance", "jobId": made["id"]})))
        seconds, statuses = asyncio.run(_pay_all(server.url, links))
        captured = []
        for link in links:
            shown = ok(api.get(f"/v1/payment-links/{link['id']}"))
            paid = ok(api.get("/v1/payments", params={"jobId": link["jobId"]}))["data"]
            captured.append((shown["status"], [p["status"] for p in paid]))
        rss = server.rss_mb()
    once = sum(1 for status, paid in captured if status == "paid" and paid == ["captured"])
    return {
        "payers": count,
        "seconds": round(seconds, 2),
        "captures_per_s": round(count / seconds, 1),
        "captured_once": once,
        "answers_200": sum(1 for s in statuses if s == 200),
        "rss_mb": round(rss, 1),
    }


async def _pay_all(url: str, links: list[dict[str, Any]]) -> tuple[float, list[int]]:
    limits = httpx.Limits(max_connections=len(links), max_keepalive_connections=len(links))
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        gate = asyncio.Event()

        async def one(link: dict[str, Any]) -> int:
            await gate.wait()
            return (await client.post(link["url"], data=CARD)).status_code

        tasks = [asyncio.create_task(one(link)) for link in links]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        gate.set()
        statuses = list(await asyncio.gather(*tasks))
        return time.perf_counter() - started, statuses


def cold_snapshots(server_dir: Path | None, devices: int = 50, jobs_each: int = 20) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(scratch) / "flint.db", server_dir) as server,
        office(server) as api,
    ):
        phones: list[Phone] = []
        for d in range(devices):
            device = phone(api, f"Technician {d}")
            who = customer(api, d)
            for n in range(jobs_each):
                made, order = job_with_order(api, who, device.technician_id, n)
                ok(api.post(f"/v1/orders/{order['id']}/line-items", json={"lineItems": [line("Filter", 2500)]}))
                ok(api.post("/v1/payment-links", json={"name": "Balance", "jobId": made["id"]}))
            phones.append(device)
        took, entities = asyncio.run(_snapshots(server.url, phones))
        rss = server.rss_mb()
    return {
        "devices": devices,
        "jobs_each": jobs_each,
        "entities_each": entities,
        **summarize(took),
        "rss_mb": round(rss, 1),
    }


async def _snapshots(url: str, phones: list[Phone]) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=len(phones), max_keepalive_connections=len(phones))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        gate = asyncio.Event()

        async def one(device: Phone) -> tuple[float, int]:
            await gate.wait()
            started, cursor, seen = time.perf_counter(), None, 0
            while True:
                body = {"clientId": device.client_id, "schemaVersion": 1, "cursor": cursor, "limit": 500}
                page = ok(await client.post("/v1/sync/pull", json=body, headers=device.headers))
                seen += len(page["changes"])
                cursor = page["cursor"]
                if not page["hasMore"]:
                    return time.perf_counter() - started, seen

        tasks = [asyncio.create_task(one(device)) for device in phones]
        await asyncio.sleep(0.2)
        gate.set()
        done = await asyncio.gather(*tasks)
        return [t for t, _ in done], max(n for _, n in done)


def mixed(server_dir: Path | None, clients: int = 50, seconds: float = 60) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(scratch) / "flint.db", server_dir) as server,
        office(server) as api,
    ):
        world = _world(api, clients)
        took, errors = asyncio.run(_mix(server.url, world, clients, seconds))
        rss = server.rss_mb()
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(took),
        "per_s": round(len(took) / seconds),
        **summarize(took),
        "errors": errors,
        "rss_mb": round(rss, 1),
    }


def _world(api: httpx.Client, clients: int) -> dict[str, Any]:
    phones, jobs, orders, links = [], [], [], []
    for c in range(clients):
        device = phone(api, f"Technician {c}")
        who = customer(api, c)
        for n in range(4):
            made, order = job_with_order(api, who, device.technician_id, n, amount=50_000)
            jobs.append(made["id"])
            orders.append(order["id"])
            links.append(ok(api.post("/v1/payment-links", json={"name": "Balance", "jobId": made["id"]}))["url"])
        phones.append((device, orders[-4:]))
    return {"phones": phones, "jobs": jobs, "orders": orders, "links": links}


async def _mix(url: str, world: dict[str, Any], clients: int, seconds: float) -> tuple[list[float], int]:
    took: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    office_headers = OFFICE
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker(n: int) -> None:
            nonlocal errors
            rng = random.Random(n)
            device, own_orders = world["phones"][n]
            next_id, cursor = 1, None
            while time.monotonic() < deadline:
                kind = rng.random()
                try:
                    started = time.perf_counter()
                    if kind < 0.30:
                        response = await client.get("/v1/jobs", params={"limit": 50}, headers=office_headers)
                    elif kind < 0.50:
                        job_id = rng.choice(world["jobs"])
                        response = await client.get(f"/v1/jobs/{job_id}", headers=office_headers)
                    elif kind < 0.60:
                        order_id = rng.choice(world["orders"])
                        body = {"lineItems": [line("Part", 100 + rng.randrange(50), "addon")]}
                        response = await client.post(
                            f"/v1/orders/{order_id}/line-items", json=body, headers=office_headers
                        )
                    elif kind < 0.75:
                        mutations = add_ons(own_orders, next_id, 5)
                        next_id += 5
                        body = {"clientId": device.client_id, "schemaVersion": 1, "mutations": mutations}
                        response = await client.post("/v1/sync/push", json=body, headers=device.headers)
                    elif kind < 0.90:
                        body = {"clientId": device.client_id, "schemaVersion": 1, "cursor": cursor, "limit": 500}
                        response = await client.post("/v1/sync/pull", json=body, headers=device.headers)
                        if response.status_code == 200:
                            cursor = response.json()["cursor"]
                    else:
                        response = await client.get(rng.choice(world["links"]).replace(url, ""))
                    took.append(time.perf_counter() - started)
                    if response.status_code >= 500:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1

        await asyncio.gather(*(worker(n) for n in range(clients)))
    return took, errors
