"""The office side of device tests, over real HTTP to a real server process."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import item


@dataclass
class Enrolled:
    technician_id: str
    device_id: str
    token: str
    job_id: str
    order_id: str
    customer_phone: str


def enrol_with_job(api: httpx.Client, phone: str = "+15555550150", amount: int = 8900) -> Enrolled:
    tech = api.post("/v1/technicians", json={"name": "Sam Ortiz"}).json()
    device = api.post(f"/v1/technicians/{tech['id']}/devices", json={"label": "Sam's phone"}).json()
    customer = api.post("/v1/customers", json={"name": "Maria Alvarez", "phone": phone, "kind": "residential"}).json()
    job = api.post(
        "/v1/jobs",
        json={
            "customerId": customer["id"],
            "title": "AC not cooling",
            "address": "412 Birch Lane",
            "technicianId": tech["id"],
        },
    ).json()
    order = api.post(
        "/v1/orders", json={"lineItems": [item("Diagnostic visit", amount)], "metadata": {"jobId": job["id"]}}
    ).json()
    return Enrolled(tech["id"], device["id"], device["token"], job["id"], order["id"], phone)


def flint_device(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`flint device ...` as a technician would run it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "device", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def server_job(api: httpx.Client, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/jobs/{job_id}").json())
