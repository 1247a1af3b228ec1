"""Device-side test helpers: `flint device` run in this process, and a device file enrolled
against a real server with jobs that cover the targeting and deposit cases."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.cli import main
from tests.helpers import item
from tests.process import ServerProcess

KEY = "device-office-key-0123456789abcdefghij"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def device_cli(db: Path, *args: str) -> Ran:
    """`flint device ARGS --db DB` in this process: its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["device", *args, "--db", str(db)])
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 1
    return Ran(code, out.getvalue(), err.getvalue())


def outbox_rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute("SELECT id, name, mutation, state FROM outbox ORDER BY id"))
    finally:
        conn.close()


def meta(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()


def usd(amount: int, currency: str = "USD") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


@dataclass
class Field:
    """What the office set up for one technician, by name."""

    technician_id: str
    device_id: str
    token: str
    customer_phone: str
    jobs: dict[str, str]
    orders: dict[str, str]


def set_up_field(api: httpx.Client, technician: str = "Sam Ortiz") -> Field:
    """Jobs a day brings: a paid deposit and a work order; a plain job; two open work orders; a
    deposit order made after the work order; a job paid in full; a job with only a deposit order;
    a job in euros."""
    tech = api.post("/v1/technicians", json={"name": technician}).json()
    device = api.post(f"/v1/technicians/{tech['id']}/devices", json={"label": "phone"}).json()
    phone = "+15555550150"
    customer = api.post("/v1/customers", json={"name": "Maria Alvarez", "phone": phone, "kind": "residential"}).json()
    jobs: dict[str, str] = {}
    orders: dict[str, str] = {}

    def job(name: str, title: str) -> str:
        made = api.post(
            "/v1/jobs",
            json={
                "customerId": customer["id"],
                "title": title,
                "address": "412 Birch Lane",
                "technicianId": tech["id"],
            },
        ).json()
        jobs[name] = made["id"]
        return str(made["id"])

    def order(name: str, job_id: str, lines: list[dict[str, Any]], stage: str | None = None) -> str:
        metadata = {"jobId": job_id, **({"paymentStage": stage} if stage else {})}
        made = api.post("/v1/orders", json={"lineItems": lines, "metadata": metadata})
        assert made.status_code == 201, made.text
        orders[name] = made.json()["id"]
        return str(made.json()["id"])

    def cash(order_id: str, amount: int, currency: str = "USD") -> None:
        paid = api.post(
            "/v1/payments", json={"orderId": order_id, "amountMoney": usd(amount, currency), "method": "cash"}
        )
        assert paid.status_code == 201, paid.text

    deposit_job = job("deposit", "AC not cooling")
    cash(order("deposit", deposit_job, [item("Dispatch deposit", 7500)], "dispatch_deposit"), 7500)
    order("repair", deposit_job, [item("Compressor repair", 120000)])
    order("plain", job("plain", "Water heater"), [item("Diagnostic visit", 8900)])
    two = job("two", "Two visits")
    order("first", two, [item("Diagnostic visit", 8900)])
    order("second", two, [item("Duct cleaning", 4000)])
    late = job("late", "Parts on order")
    order("work", late, [item("Furnace install", 20000)])
    order("parts", late, [item("Parts deposit", 5000)], "parts_deposit")
    cash(order("settled", job("paid", "Paid up"), [item("Tune-up", 5000)]), 5000)
    order("upfront", job("upfront", "Boiler swap"), [item("Deposit", 10000)], "deposit")
    euro = {"name": "Wartung", "quantity": 1, "unitPriceMoney": usd(10000, "EUR")}
    order("euro", job("euro", "Heizung"), [euro])
    return Field(tech["id"], device["id"], device["token"], phone, jobs, orders)


@dataclass
class Template:
    """An enrolled device file to copy, and what is on it. Its server is gone: offline."""

    path: Path
    field: Field

    def copy(self, to: Path) -> Path:
        shutil.copyfile(self.path, to)
        return to


def make_template(directory: Path) -> Template:
    with ServerProcess(directory / "flint.db", {"FLINT_API_KEY": KEY}) as server:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
            field = set_up_field(api)
        path = directory / "enrolled.db"
        enrolled = device_cli(path, "enroll", "--server", server.url, "--token", field.token)
        assert enrolled.code == 0, enrolled.err
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return Template(path, field)
