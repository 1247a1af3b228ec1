"""What every figure of `make bench` stands on: a real `flint serve` on a fresh SQLite file, an
office client, enrolled devices, and the statistics. A server may run from another checkout
(`--server-dir`), so the same figures can be taken of an earlier Flint on the same machine."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-office-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
CARD = {"cardNumber": "4242424242424242", "expMonth": "12", "expYear": "2034", "cvc": "123", "postalCode": "94110"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def line(name: str, amount: int, kind: str = "service") -> dict[str, Any]:
    return {"name": name, "quantity": 1, "unitPriceMoney": usd(amount), "kind": kind}


@dataclass
class Server:
    """`flint serve` in a process of its own; its peak memory is read from /proc when it stops."""

    db: Path
    server_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    peak_rss_mb: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            **os.environ,
            "FLINT_DB": str(self.db),
            "FLINT_API_KEY": KEY,
            "FLINT_PUBLIC_URL": self.url,
            "FLINT_BILLING_INTERVAL": "3600",
            "FLINT_SMS_RETRY_BASE": "3600",  # the built-in sandbox is there; texts are not what is timed
            **self.env,
        }
        cwd = None
        if self.server_dir is not None:
            env["PYTHONPATH"] = str(self.server_dir)
            cwd = str(self.server_dir)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the server did not start")

    def rss_mb(self) -> float:
        """The process's peak resident set so far (VmHWM), in MB."""
        if self.proc is None:
            return 0.0
        try:
            for text in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if text.startswith("VmHWM:"):
                    return int(text.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        if self.proc is None:
            return
        self.peak_rss_mb = max(self.peak_rss_mb, self.rss_mb())
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def office(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=OFFICE, timeout=120)


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json()


@dataclass(frozen=True, slots=True)
class Phone:
    technician_id: str
    token: str
    client_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def phone(api: httpx.Client, name: str = "Bench") -> Phone:
    tech = ok(api.post("/v1/technicians", json={"name": name}))
    token = ok(api.post(f"/v1/technicians/{tech['id']}/devices", json={}))["token"]
    return Phone(tech["id"], token, str(uuid.uuid4()))


def customer(api: httpx.Client, n: int = 0) -> dict[str, Any]:
    phone_number = f"+1555{n % 10_000_000:07d}"
    return dict(
        ok(api.post("/v1/customers", json={"name": f"Customer {n}", "phone": phone_number, "kind": "residential"}))
    )


def job_with_order(
    api: httpx.Client, who: dict[str, Any], technician_id: str | None, n: int, amount: int = 10_000
) -> tuple[dict[str, Any], dict[str, Any]]:
    body: dict[str, Any] = {"customerId": who["id"], "title": f"Job {n}", "address": f"{n} Elm Street"}
    if technician_id is not None:
        body["technicianId"] = technician_id
    made = ok(api.post("/v1/jobs", json=body))
    order = ok(
        api.post("/v1/orders", json={"lineItems": [line("Service visit", amount)], "metadata": {"jobId": made["id"]}})
    )
    return made, order


def add_ons(order_ids: Sequence[str], first_id: int, count: int) -> list[dict[str, Any]]:
    """`order.addLineItem` mutations spread over `order_ids`, ids counting from `first_id`."""
    return [
        {
            "id": first_id + n,
            "name": "order.addLineItem",
            "clientAt": "2026-05-01T09:00:00.000Z",
            "args": {
                "orderId": order_ids[n % len(order_ids)],
                "uid": str(uuid.uuid4()),
                "name": f"Part {first_id + n}",
                "quantity": 1,
                "unitPriceMoney": usd(100 + n % 50),
                "kind": "addon",
            },
        }
        for n in range(count)
    ]


def push_body(device: Phone, mutations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"clientId": device.client_id, "schemaVersion": 1, "mutations": mutations}


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(statistics.median(ms), 1) if ms else 0.0,
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else 0.0,
    }
