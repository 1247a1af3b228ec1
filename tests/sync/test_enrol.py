"""Enrolling again (contract §7): a new client whose ids count from 1; pending mutations carry
over, numbered again, only for the same technician on the same server; a failed enrolment says
why and leaves the device as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.process import ServerProcess
from tests.sync.devices import KEY, device_cli, meta, set_up_field


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as running:
        yield running


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def everything(db: Path) -> dict[str, list[Any]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: list(conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"))
            for table in ("meta", "entities", "outbox")
        }
    finally:
        conn.close()


def new_token(api: httpx.Client, technician_id: str) -> str:
    return str(api.post(f"/v1/technicians/{technician_id}/devices", json={"label": "new phone"}).json()["token"])


def test_the_same_technician_on_the_same_server_keeps_what_waits(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    field = set_up_field(api)
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    assert meta(db)["technician_id"] == field.technician_id
    job, order = field.jobs["plain"], field.orders["plain"]
    assert device_cli(db, "add-on", job, "--name", "Capacitor", "--price", "4500").code == 0
    assert device_cli(db, "text-to-pay", job, "--order", order, "--amount", "8900").code == 0
    cash = {"orderId": order, "amountMoney": {"amount": 8900, "currency": "USD"}, "method": "cash"}
    assert api.post("/v1/payments", json=cash).status_code == 201
    assert device_cli(db, "sync").code == 0  # the text asks for more than is owed by then: rejected
    for name in ("Contactor", "Filter"):
        assert device_cli(db, "add-on", job, "--name", name, "--price", "1000").code == 0
    old_client = meta(db)["client_id"]

    again = device_cli(db, "enroll", "--server", server.url + "/", "--token", new_token(api, field.technician_id))
    assert again.code == 0, again
    assert "2 change(s) from the outbox carried over, numbered again from 1" in again.out
    assert "1 rejected mutation(s) of the previous enrolment cleared" in again.out
    assert "Pushed 2 (2 applied, 0 rejected)" in again.out
    assert meta(db)["client_id"] != old_client and meta(db)["next_mutation_id"] == "3"
    names = [line["name"] for line in api.get(f"/v1/orders/{order}").json()["lineItems"]]
    assert names == ["Diagnostic visit", "Capacitor", "Contactor", "Filter"]
    assert device_cli(db, "outbox", "--json").json() == []
    assert device_cli(db, "note", job, "done").code == 0
    assert device_cli(db, "sync").code == 0  # the new client goes on from 3, no gap


def test_another_technician_is_refused_while_changes_wait_unless_dropped(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    field = set_up_field(api)
    other = set_up_field(api, technician="Priya Nair")
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    assert device_cli(db, "note", field.jobs["plain"], "gate code 4411").code == 0
    before = everything(db)

    refused = device_cli(db, "enroll", "--server", server.url, "--token", other.token)
    assert refused.code == 2
    assert "1 change(s) wait in the outbox for another technician" in refused.err
    assert "--discard-pending" in refused.err
    assert everything(db) == before

    taken = device_cli(db, "enroll", "--server", server.url, "--token", other.token, "--discard-pending", "--json")
    assert taken.code == 0, taken
    assert (taken.json()["discarded"], taken.json()["technicianId"]) == (1, other.technician_id)
    assert device_cli(db, "outbox", "--json").json() == []
    assert {j["id"] for j in device_cli(db, "jobs", "--json").json()} == set(other.jobs.values())
    assert meta(db)["technician_id"] == other.technician_id


def test_another_server_is_refused_while_changes_wait(server: ServerProcess, api: httpx.Client, tmp_path: Path) -> None:
    field = set_up_field(api)
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    assert device_cli(db, "status", field.jobs["plain"], "en_route").code == 0
    before = everything(db)
    refused = device_cli(db, "enroll", "--server", "http://127.0.0.1:9", "--token", "fdt_elsewhere")
    assert refused.code == 2 and f"wait in the outbox for {server.url}" in refused.err
    assert everything(db) == before


def test_a_failed_enrolment_says_why_and_changes_nothing(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    field = set_up_field(api)
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    before = everything(db)

    bad = device_cli(db, "enroll", "--server", server.url, "--token", "fdt_not_a_token")
    assert bad.code == 2
    assert "enrolling failed: the server did not accept this token (401 unauthorized)" in bad.err
    assert "Nothing on this device changed" in bad.err
    assert "sync failed" not in bad.err and "outbox is empty" not in bad.err
    gone = device_cli(db, "enroll", "--server", "http://127.0.0.1:9", "--token", "fdt_whatever")
    assert gone.code == 1 and "enrolling failed: could not reach http://127.0.0.1:9" in gone.err
    for server_url, token, said in (
        ("flint.example.com", field.token, "not a server address"),
        ("ftp://flint.example.com", field.token, "not a server address"),
        (server.url, "fdt_has a space", "not a device token"),
        (server.url, "x" * 65, "not a device token"),
        (server.url, "fdt_é", "not a device token"),
    ):
        ran = device_cli(db, "enroll", "--server", server_url, "--token", token)
        assert ran.code == 2 and said in ran.err, (server_url, token, ran)
    assert everything(db) == before
    assert device_cli(db, "sync").code == 0  # still enrolled as before


def test_a_failed_first_enrolment_makes_no_file(server: ServerProcess, tmp_path: Path) -> None:
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", "fdt_not_a_token").code == 2
    assert device_cli(db, "enroll", "--server", "http://127.0.0.1:9", "--token", "fdt_whatever").code == 1
    assert device_cli(db, "enroll", "--server", "nowhere", "--token", "fdt_whatever").code == 2
    assert not any(p.name.startswith("phone.db") for p in tmp_path.iterdir())
