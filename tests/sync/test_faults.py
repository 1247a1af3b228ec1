"""Sync under faults, with real processes: a server killed mid-push, a device killed after
writing, responses lost after the server committed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync import protocol as p
from sync.device import Device, now
from sync.replica import Replica
from tests.process import ServerProcess
from tests.sync.office import enrol_with_job, flint_device

KEY = "fault-office-key-0123456789abcdefghij"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as running:
        yield running


def office(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)


def server_last_mutation(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT max(last_mutation_id) FROM sync_clients").fetchone()
        return int(row[0] or 0)
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_a_server_killed_mid_push_loses_nothing_and_doubles_nothing(server: ServerProcess, tmp_path: Path) -> None:
    with office(server) as api:
        setup = enrol_with_job(api)
    db = tmp_path / "phone.db"
    assert flint_device(db, "enroll", "--server", server.url, "--token", setup.token).returncode == 0
    total = 3000
    replica = Replica(db)
    # Straight into the outbox, as `add_on` queues them: each command's checks replay the whole
    # outbox, which would make 3,000 commands one after another quadratic.
    for n in range(total):
        price = p.Money(100 + n % 7, "USD")
        args = p.AddLineItemArgs(
            order_id=setup.order_id, uid=str(uuid.uuid4()), name=f"part {n}", quantity=1, unit_price_money=price
        )
        replica.queue(lambda i, a=args: p.AddLineItem(id=i, client_at=now(), args=a), now())
    replica.close()

    syncing = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "device", "sync", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while server_last_mutation(server.db_path) < 500 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    applied_at_kill = server_last_mutation(server.db_path)
    assert 500 <= applied_at_kill < total, applied_at_kill  # killed part way through the batches
    _, stderr = syncing.communicate(timeout=60)
    assert syncing.returncode != 0
    assert "sync failed" in stderr

    server.start()
    retried = flint_device(db, "sync")
    assert retried.returncode == 0, retried.stderr
    with office(server) as api:
        order = api.get(f"/v1/orders/{setup.order_id}").json()
        trail = api.get(f"/v1/jobs/{setup.job_id}/trail").json()["events"]
    names = [line["name"] for line in order["lineItems"][1:]]
    assert names == [f"part {n}" for n in range(total)]  # every one, once, in order
    assert sum(e["type"] == "order.line_item_added" for e in trail) == total
    assert order["totalMoney"]["amount"] == 8900 + sum(100 + n % 7 for n in range(total))
    assert flint_device(db, "outbox").stdout.strip() == "The outbox is empty."


def test_a_device_killed_after_writing_keeps_the_mutation(server: ServerProcess, tmp_path: Path) -> None:
    with office(server) as api:
        setup = enrol_with_job(api)
    db = tmp_path / "phone.db"
    assert flint_device(db, "enroll", "--server", server.url, "--token", setup.token).returncode == 0
    script = (
        "import sys, time\n"
        "from sync.replica import Replica\n"
        "from sync.device import Device\n"
        f"device = Device(Replica({str(db)!r}))\n"
        f"device.add_on({setup.job_id!r}, 'Capacitor', 4500)\n"
        "print('written', flush=True)\n"
        "time.sleep(60)\n"
    )
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert app.stdout is not None
    assert app.stdout.readline().strip() == "written"
    app.send_signal(signal.SIGKILL)
    app.wait(timeout=10)
    app.stdout.close()

    outbox = flint_device(db, "outbox", "--json")
    assert '"order.addLineItem"' in outbox.stdout
    assert flint_device(db, "sync").returncode == 0
    with office(server) as api:
        order = api.get(f"/v1/orders/{setup.order_id}").json()
    assert [line["name"] for line in order["lineItems"]] == ["Diagnostic visit", "Capacitor"]


class DropAfterCommit(httpx.BaseTransport):
    """A proxy in the way that delivers each push but loses the first few answers."""

    def __init__(self, drops: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.drops = drops
        self.pushes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == "/v1/sync/push":
            self.pushes += 1
            if self.drops:
                self.drops -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the server answered", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_answers_lost_after_commit_make_no_duplicates(server: ServerProcess, tmp_path: Path) -> None:
    with office(server) as api:
        setup = enrol_with_job(api)
    replica = Replica(tmp_path / "phone.db")
    lossy = DropAfterCommit(drops=2)
    device = Device(replica, transport=lossy)
    device.enroll(server.url, setup.token)
    for name in ("Capacitor", "Contactor"):
        device.add_on(setup.job_id, name, 4500)
    device.record_payment(setup.job_id, 3000, "cash", order_id=setup.order_id)

    report = device.sync()
    assert lossy.pushes == 3  # two answers lost, the third push heard
    assert (report.applied, report.pending) == (3, 0)
    with office(server) as api:
        order = api.get(f"/v1/orders/{setup.order_id}").json()
        payments = api.get("/v1/payments", params={"orderId": setup.order_id}).json()["data"]
    assert [line["name"] for line in order["lineItems"]] == ["Diagnostic visit", "Capacitor", "Contactor"]
    assert [p["amountMoney"]["amount"] for p in payments] == [3000]
    assert device.job(setup.job_id).balance == order["balanceMoney"]["amount"]
    replica.close()
