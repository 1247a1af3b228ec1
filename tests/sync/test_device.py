"""The device against a real server: the replica, the outbox, the shown state, failing well."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.device import Device
from sync.online import EnrolFailed
from sync.replica import Replica
from tests.process import ServerProcess
from tests.sync.office import enrol_with_job, flint_device, server_job

KEY = "device-office-key-0123456789abcdefghij"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY, "FLINT_SMS_RETRY_BASE": "0.05"}) as running:
        yield running


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


@pytest.fixture
def device(tmp_path: Path) -> Iterator[Device]:
    replica = Replica(tmp_path / "device.db")
    yield Device(replica)
    replica.close()


def test_shown_totals_match_the_server_after_sync(server: ServerProcess, api: httpx.Client, device: Device) -> None:
    setup = enrol_with_job(api)
    device.enroll(server.url, setup.token)
    assert [j.id for j in device.jobs()] == [setup.job_id]

    device.add_on(setup.job_id, "Capacitor", 4500)
    device.add_on(setup.job_id, "Filter", 1250, quantity=2)
    device.record_payment(setup.job_id, 5000, "cash", order_id=setup.order_id)
    device.set_status(setup.job_id, "on_site")
    shown = device.job(setup.job_id)
    assert (shown.total, shown.balance, shown.status) == (
        8900 + 4500 + 2500,
        8900 + 4500 + 2500 - 5000,
        "on_site",
    )
    assert len(shown.pending) == 4

    report = device.sync()
    assert (report.pushed, report.applied, report.pending) == (4, 4, 0)
    synced = device.job(setup.job_id)
    truth = server_job(api, setup.job_id)
    assert synced.total == truth["payment"]["totalMoney"]["amount"] == shown.total
    assert synced.balance == truth["payment"]["balanceMoney"]["amount"] == shown.balance
    assert synced.status == truth["status"] == "on_site"
    assert synced.pending == []
    order = api.get(f"/v1/orders/{setup.order_id}").json()
    [shown_order] = synced.orders
    assert [(line.name, line.quantity) for line in shown_order.lines] == [
        (line["name"], line["quantity"]) for line in order["lineItems"]
    ]


def test_a_rejection_shows_in_the_outbox_and_leaves_the_shown_state(
    server: ServerProcess, api: httpx.Client, device: Device
) -> None:
    setup = enrol_with_job(api)
    device.enroll(server.url, setup.token)
    too_much = device.record_payment(setup.job_id, 8900, "cash", order_id=setup.order_id)
    # The office took cash while the phone was offline: 8900 is now more than the order owes.
    cash = {"orderId": setup.order_id, "amountMoney": {"amount": 5000, "currency": "USD"}, "method": "cash"}
    assert api.post("/v1/payments", json=cash).status_code == 201
    device.add_on(setup.job_id, "Capacitor", 4500)
    report = device.sync()
    assert [o.id for o in report.rejected] == [too_much.id]
    [rejected] = device.replica.outbox()
    assert (rejected.state, rejected.code) == ("rejected", "amount_exceeds_balance")
    assert "balance" in (rejected.detail or "")
    shown = device.job(setup.job_id)
    assert shown.balance == server_job(api, setup.job_id)["payment"]["balanceMoney"]["amount"] == 8900 + 4500 - 5000


def test_a_reassigned_job_leaves_the_device(server: ServerProcess, api: httpx.Client, device: Device) -> None:
    setup = enrol_with_job(api)
    device.enroll(server.url, setup.token)
    other = api.post("/v1/technicians", json={"name": "Priya Nair"}).json()
    api.patch(f"/v1/jobs/{setup.job_id}", json={"version": 1, "technicianId": other["id"]})
    device.sync()
    assert device.jobs() == []
    assert device.replica.entities("order") == []


def test_every_command_but_sync_works_offline(server: ServerProcess, api: httpx.Client, tmp_path: Path) -> None:
    setup = enrol_with_job(api)
    db = tmp_path / "phone.db"
    enrolled = flint_device(db, "enroll", "--server", server.url, "--token", setup.token)
    assert enrolled.returncode == 0, enrolled.stderr
    server.stop()

    for args in (
        ("jobs",),
        ("show", setup.job_id),
        ("status", setup.job_id, "on_site"),
        ("add-on", setup.job_id, "--name", "Capacitor", "--price", "4500"),
        ("record-payment", setup.job_id, "--amount", "2000", "--method", "check", "--order", setup.order_id),
        ("text-to-pay", setup.job_id),
        ("outbox",),
    ):
        result = flint_device(db, *args)
        assert result.returncode == 0, (args, result.stderr)
    outbox = json.loads(flint_device(db, "outbox", "--json").stdout)
    assert [o["name"] for o in outbox] == [
        "job.setStatus",
        "order.addLineItem",
        "payment.recordOffline",
        "textToPay.request",
    ]

    failed = flint_device(db, "sync")
    assert failed.returncode != 0
    assert "could not reach" in failed.stderr and "4 change(s) wait in the outbox" in failed.stderr
    assert json.loads(flint_device(db, "outbox", "--json").stdout) == outbox
    shown = json.loads(flint_device(db, "show", setup.job_id, "--json").stdout)
    assert (shown["status"], shown["payment"]["balanceMoney"]) == (
        "on_site",
        {"amount": 8900 + 4500 - 2000, "currency": "USD"},
    )


def test_a_bad_token_does_not_enrol(server: ServerProcess, api: httpx.Client, device: Device) -> None:
    with pytest.raises(Exception, match="401"):
        device.enroll(server.url, "fdt_not_a_token")
    assert device.replica.get("token") is None


def test_no_server_at_all_is_a_clear_failure(device: Device, tmp_path: Path) -> None:
    with pytest.raises(EnrolFailed, match="enrolling failed: could not reach"):
        device.enroll("http://127.0.0.1:9", "fdt_whatever")
