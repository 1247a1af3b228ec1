"""Record the golden protocol fixtures again: `python -m tests.protocol.record` (from the
repository, with the project's virtualenv). Each scenario runs the Python device against a real
`flint serve`, with the office acting through the API between the device's steps, and writes
every push and pull exchanged and what the device showed after each step to
`fixtures/protocol/<scenario>.json`.

Record again when the protocol or the server's answers change on purpose; the replay tests
(`tests/protocol/`) then hold both device clients to the new recording.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import item, usd
from tests.process import ServerProcess
from tests.protocol.device import PythonDevice
from tests.protocol.golden import FIXTURES, SERVER, TOKEN

KEY = "golden-fixture-office-key-0123456789abcdef"  # long enough for the key-strength check
CARD = {"cardNumber": "4242424242424242", "expMonth": "12", "expYear": "2034", "cvc": "123", "postalCode": "94110"}


class Recording(httpx.BaseTransport):
    """A real transport that keeps each exchange."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        content = response.read()
        self.exchanges.append(
            {
                "request": {"method": request.method, "path": request.url.path, "body": json.loads(request.content)},
                "response": {"status": response.status_code, "body": json.loads(content)},
            }
        )
        return httpx.Response(response.status_code, headers=response.headers, content=content)


class Recorder:
    def __init__(self, name: str, about: str, work: Path) -> None:
        self.name, self.about, self.work = name, about, work
        self.server = ServerProcess(work / "flint.db", {"FLINT_API_KEY": KEY, "TWILIO_ACCOUNT_SID": ""})
        self.server.start()
        self.api = httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {KEY}"})
        self.transport = Recording()
        self.device = PythonDevice(work / "device.db", self.transport)
        self.steps: list[dict[str, Any]] = []
        self.token = ""

    # The office, through the API.

    def post(self, path: str, body: Any) -> Any:
        response = self.api.post(path, json=body)
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    def field(self, technician: str = "Sam Ortiz") -> str:
        tech = self.post("/v1/technicians", {"name": technician})
        self.token = self.post(f"/v1/technicians/{tech['id']}/devices", {"label": "golden phone"})["token"]
        return str(tech["id"])

    def job(self, technician_id: str, title: str, address: str, phone: str, at: str) -> str:
        customer = self.post("/v1/customers", {"name": f"Customer of {title}", "phone": phone, "kind": "residential"})
        job = self.post(
            "/v1/jobs",
            {"customerId": customer["id"], "title": title, "address": address, "technicianId": technician_id,
             "scheduledAt": at},
        )  # fmt: skip
        return str(job["id"])

    def order(self, job_id: str, stage: str, *lines: dict[str, Any]) -> str:
        metadata = {"jobId": job_id, "paymentStage": stage}
        return str(self.post("/v1/orders", {"lineItems": list(lines), "metadata": metadata})["id"])

    def pay_by_card(self, order_id: str) -> None:
        link = self.post("/v1/payment-links", {"name": "Deposit", "orderId": order_id})
        assert httpx.post(link["url"], data=CARD).status_code == 200

    def office(self, what: str, act: Callable[[], Any]) -> None:
        act()
        self.steps.append({"op": "office", "what": what})

    # The device.

    def step(self, op: str, **args: Any) -> None:
        step = {"op": op, **args}
        if op == "enrol":
            step["token"] = TOKEN
        shown = self.device.run(step, self.server.url, self.token)
        if op == "show":
            step.update(shown)
        self.steps.append(step)

    def restore(self, backup: Path) -> None:
        """The server's store comes back from an older copy, as after a restore from backup."""
        port = self.server.port
        self.server.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.server.db_path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, self.server.db_path)
        self.server = ServerProcess(self.server.db_path, {"FLINT_API_KEY": KEY, "TWILIO_ACCOUNT_SID": ""}, port=port)
        self.server.start()

    def backup(self) -> Path:
        copy = self.work / "backup.db"
        source = sqlite3.connect(self.server.db_path)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return copy

    def save(self) -> Path:
        self.device.close()
        self.api.close()
        self.server.stop()
        fixture = {
            "name": self.name,
            "about": self.about,
            "server": SERVER,
            "steps": self.steps,
            "exchanges": self.transport.exchanges,
        }
        path = FIXTURES / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
        return path


# The scenarios.


def deposit_addon_cash(rec: Recorder) -> None:
    """A paid deposit carried to the work; offline an add-on, cash by job and a status; then one
    sync. The office renames the job 201 times before the second sync, so its pull comes in two
    pages (`hasMore`)."""
    sam = rec.field()
    ac = rec.job(sam, "AC not cooling", "412 Birch Lane, Springfield", "+15555550101", "2030-05-01T16:00:00Z")
    deposit = rec.order(ac, "dispatch_deposit", item("Dispatch deposit", 7500, kind="deposit"))
    rec.order(ac, "onsite", item("Diagnostic visit", 8900), item("Trip charge", 2500, kind="travel"))
    rec.pay_by_card(deposit)
    drain = rec.job(sam, "Kitchen drain clog", "17 Maple Street, Springfield", "+15555550103", "2030-05-01T19:00:00Z")
    rec.order(drain, "onsite", item("Drain clearing", 14500))
    rec.step("enrol")
    rec.step("show")
    rec.step("addOn", job=ac, name="Capacitor", price=4500, quantity=2)
    rec.step("recordPayment", job=ac, amount=5000, method="cash")
    rec.step("setStatus", job=ac, status="on_site")
    rec.step("show")
    rec.step("sync")
    rec.step("show")

    def rename() -> None:
        for n in range(201):
            version = rec.api.get(f"/v1/jobs/{drain}").json()["version"]
            body = {"version": version, "title": f"Kitchen drain clog ({n + 1})"}
            assert rec.api.patch(f"/v1/jobs/{drain}", json=body).status_code == 200

    rec.office("renames the drain job 201 times", rename)
    rec.step("sync")
    rec.step("show")


def addon_new_work_order(rec: Recorder) -> None:
    """A job with only an unpaid deposit: an add-on by job shows on a new work order, and the
    server makes that order; the deposit then asks part of the work, never more."""
    sam = rec.field()
    job = rec.job(sam, "Water heater install", "9 Elm Court", "+15555550104", "2030-05-02T15:00:00Z")
    rec.order(job, "dispatch_deposit", item("Dispatch deposit", 5000, kind="deposit"))
    rec.step("enrol")
    rec.step("show")
    rec.step("addOn", job=job, name="Expansion tank", price=12000)
    rec.step("show")
    rec.step("sync")
    rec.step("show")


def rejected_changes(rec: Recorder) -> None:
    """Changes made offline that the server refuses when it applies them: the office took the
    money meanwhile, so the text to pay is `nothing_due` and the cash past the balance."""
    sam = rec.field()
    job = rec.job(sam, "Furnace tune-up", "3 Oak Road", "+15555550105", "2030-05-03T15:00:00Z")
    rec.order(job, "onsite", item("Tune-up", 20000))
    rec.step("enrol")
    rec.step("textToPay", job=job)
    rec.step("recordPayment", job=job, amount=10000, method="check", reference="1042")
    rec.step("show")
    pay = {"jobId": job, "amountMoney": usd(20000), "method": "cash"}
    rec.office("records $200.00 in cash for the whole job", lambda: rec.post("/v1/payments", pay))
    rec.step("sync")
    rec.step("show")


def restored_server(rec: Recorder) -> None:
    """The server comes back from a backup older than the phone's cursor: its next pull is a
    whole snapshot (`reset`), so a job the restored server never had leaves the phone."""
    sam = rec.field()
    rec.job(sam, "Thermostat swap", "5 Pine Way", "+15555550106", "2030-05-04T15:00:00Z")
    rec.step("enrol")
    backup = rec.backup()
    later = rec.job(sam, "Duct cleaning", "8 Cedar Lane", "+15555550107", "2030-05-04T18:00:00Z")
    rec.order(later, "onsite", item("Duct cleaning", 30000))
    rec.office("adds a second job with its order", lambda: None)
    rec.step("sync")
    rec.step("show")
    rec.office("restores the server from the backup taken before the second job", lambda: rec.restore(backup))
    rec.step("sync")
    rec.step("show")


def change_order_approval(rec: Recorder) -> None:
    """Change orders: an add-on that needs the customer's approval counts in nothing until it is
    approved; after a sync a second one is added offline, the customer is asked by text for
    both, then approves both in person before the phone syncs (the approval's hash names an
    add-on still in the outbox); the sync takes them in order and the work counts."""
    sam = rec.field()
    ac = rec.job(sam, "AC not cooling", "412 Birch Lane, Springfield", "+15555550101", "2030-05-05T16:00:00Z")
    work = rec.order(ac, "onsite", item("Diagnostic visit", 8900), item("Trip charge", 2500, kind="travel"))
    rec.step("enrol")
    rec.step("show")
    rec.step("addOn", job=ac, name="Condensate pump", price=18500, needsApproval=True)
    rec.step("show")
    rec.step("sync")
    rec.step("show")
    rec.step("addOn", job=ac, name="UV lamp", price=24000, needsApproval=True)
    rec.step("requestApproval", job=ac)
    rec.step("recordApproval", job=ac, order=work, signerName="Maria Alvarez")
    rec.step("show")
    rec.step("sync")
    rec.step("show")


SCENARIOS: dict[str, Callable[[Recorder], None]] = {
    "deposit-addon-cash": deposit_addon_cash,
    "addon-new-work-order": addon_new_work_order,
    "rejected-changes": rejected_changes,
    "restored-server": restored_server,
    "change-order-approval": change_order_approval,
}


def main(names: list[str]) -> None:
    for name, scenario in SCENARIOS.items():
        if names and name not in names:
            continue
        work = Path(tempfile.mkdtemp(prefix=f"golden-{name}-"))
        recorder = Recorder(name, (scenario.__doc__ or "").strip().replace("\n    ", " "), work)
        try:
            scenario(recorder)
            print(recorder.save())
        finally:
            recorder.server.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
