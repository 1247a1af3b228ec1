"""`flint device` and change orders against a real server (contract §7, §8): `add-on
--needs-approval` waits and counts in nothing on the device as on the server; `approval record`
shows the customer the lines and total first and is taken, offline too, when its hash still
matches; a line taken off meanwhile makes it `approval_stale`; `approval request` texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.process import ServerProcess
from tests.sync.devices import KEY, device_cli
from tests.sync.office import enrol_with_job, server_job


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY, "FLINT_SMS_RETRY_BASE": "0.05"}) as running:
        yield running


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def test_a_change_order_approved_in_person_with_the_device(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    setup = enrol_with_job(api)
    db = tmp_path / "device.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", setup.token).code == 0
    job = setup.job_id

    added = device_cli(db, "add-on", job, "--name", "Condensate pump", "--price", "18500", "--needs-approval", "--json")
    assert added.code == 0, added.err
    assert added.json()["args"]["needsApproval"] is True
    shown = device_cli(db, "show", job, "--json").json()
    assert [(line["name"], line["approval"]) for line in shown["orders"][0]["lineItems"]] == [
        ("Diagnostic visit", "none"), ("Condensate pump", "pending")
    ]  # fmt: skip
    assert shown["payment"]["balanceMoney"]["amount"] == 8900  # owed by nobody until approved
    assert "awaiting approval" in device_cli(db, "show", job).out

    # Offline, in the driveway: the customer reads the lines and the total, and gives their name.
    taken = device_cli(db, "approval", "record", job, "--signer", "Maria Alvarez")
    assert taken.code == 0, taken.err
    said = taken.out
    assert said.index("Condensate pump") < said.index("$185.00") < said.index("Queued the approval by Maria Alvarez")
    assert "Job total once approved" in said and "$274.00" in said
    assert device_cli(db, "show", job, "--json").json()["payment"]["balanceMoney"]["amount"] == 27400

    synced = device_cli(db, "sync", "--json")
    assert synced.code == 0 and synced.json()["rejected"] == [], synced.out
    order = api.get(f"/v1/orders/{setup.order_id}").json()
    assert [line["approval"] for line in order["lineItems"]] == ["none", "approved"]
    assert server_job(api, job)["payment"]["balanceMoney"]["amount"] == 27400
    [request] = api.get(f"/v1/approval-requests?jobId={job}").json()["data"]
    assert (request["channel"], request["approval"]["signerName"], request["approval"]["channel"]) == (
        "device", "Maria Alvarez", "device"
    )  # fmt: skip
    assert device_cli(db, "show", job, "--json").json()["payment"]["balanceMoney"]["amount"] == 27400


def test_a_line_taken_off_before_the_sync_makes_the_approval_stale(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    setup = enrol_with_job(api)
    db = tmp_path / "device.db"
    device_cli(db, "enroll", "--server", server.url, "--token", setup.token)
    job = setup.job_id
    device_cli(db, "add-on", job, "--name", "UV lamp", "--price", "24000", "--needs-approval")
    assert device_cli(db, "sync").code == 0
    recorded = device_cli(db, "approval", "record", job, "--signer", "Maria Alvarez", "--json")
    assert recorded.code == 0 and recorded.json()["totalMoney"] == {"amount": 24000, "currency": "USD"}
    uid = recorded.json()["args"]["lineUids"][0]
    assert api.delete(f"/v1/orders/{setup.order_id}/line-items/{uid}").status_code == 200  # the office took it off

    synced = device_cli(db, "sync", "--json")
    assert synced.code == 0
    [rejected] = synced.json()["rejected"]
    assert (rejected["name"], rejected["code"]) == ("approval.record", "approval_stale")
    assert server_job(api, job)["payment"]["balanceMoney"]["amount"] == 8900

    device_cli(db, "add-on", job, "--name", "Filter", "--price", "2000", "--needs-approval")
    asked = device_cli(db, "approval", "request", job, "--json")
    assert asked.code == 0 and asked.json()["name"] == "approval.request"
    assert device_cli(db, "sync").code == 0
    requests = api.get(f"/v1/approval-requests?jobId={job}").json()["data"]
    assert [(r["channel"], r["status"], r["to"]) for r in requests] == [("text", "pending", setup.customer_phone)]
    texts = api.get(f"/v1/sms?jobId={job}").json()["data"]
    assert any("Reply " in t["body"] and "Filter" in t["body"] for t in texts)


def test_approval_commands_refuse_bad_input(server: ServerProcess, api: httpx.Client, tmp_path: Path) -> None:
    setup = enrol_with_job(api)
    db = tmp_path / "device.db"
    device_cli(db, "enroll", "--server", server.url, "--token", setup.token)
    nothing = device_cli(db, "approval", "record", setup.job_id, "--signer", "Maria Alvarez")
    assert nothing.code == 2 and "waits for the customer's approval" in nothing.err
    assert device_cli(db, "approval", "request", setup.job_id).code == 2
    assert device_cli(db, "approval", "record", setup.job_id).code == 2  # --signer is required
    device_cli(db, "add-on", setup.job_id, "--name", "Pump", "--price", "100", "--needs-approval")
    assert device_cli(db, "approval", "record", setup.job_id, "--signer", "Maria\nAlvarez").code == 2
    assert device_cli(db, "approval", "request", setup.job_id, "--to", "555").code == 2
    assert device_cli(db, "outbox", "--json").json()[-1]["name"] == "order.addLineItem"
