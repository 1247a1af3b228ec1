"""`flint device outbox`: what waits and what was rejected, and `outbox drop ID` to take a
pending mutation back (the ids the server sees stay contiguous) or clear a rejected one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.device import Device
from sync.replica import Replica
from tests.process import ServerProcess
from tests.sync.conftest import Offline
from tests.sync.devices import KEY, device_cli, meta, set_up_field, usd
from tests.sync.test_faults import DropAfterCommit

PENDING_KEYS = {"mutationId", "name", "args", "clientAt", "status"}


def test_the_outbox_lists_pending_mutations_with_the_contract_keys(offline: Offline) -> None:
    job, order = offline.field.jobs["plain"], offline.field.orders["plain"]
    assert device_cli(offline.db, "add-on", job, "--name", "Capacitor", "--price", "4500", "--quantity", "2").code == 0
    assert device_cli(offline.db, "record-payment", job, "--amount", "2000", "--method", "check").code == 0
    items = device_cli(offline.db, "outbox", "--json").json()
    assert [set(i) for i in items] == [PENDING_KEYS, PENDING_KEYS]
    added, paid = items
    assert (added["mutationId"], added["name"], added["status"]) == (1, "order.addLineItem", "pending")
    assert added["args"]["orderId"] == order and added["args"]["unitPriceMoney"] == {"amount": 4500, "currency": "USD"}
    assert added["clientAt"].endswith("Z")
    assert paid["args"]["jobId"] == job and "orderId" not in paid["args"]
    text = device_cli(offline.db, "outbox").out.splitlines()
    assert "pending" in text[0] and "'Capacitor' $45.00 x 2 on order" in text[0]
    assert "check $20.00 on job" in text[1]


def test_dropping_a_pending_mutation_moves_the_later_ones_down(offline: Offline) -> None:
    job = offline.field.jobs["plain"]
    for name in ("Capacitor", "Contactor", "Filter"):
        assert device_cli(offline.db, "add-on", job, "--name", name, "--price", "1000").code == 0
    dropped = device_cli(offline.db, "outbox", "drop", "2")
    assert dropped.code == 0 and "Took back mutation 2" in dropped.out
    assert [(i["mutationId"], i["args"]["name"]) for i in device_cli(offline.db, "outbox", "--json").json()] == [
        (1, "Capacitor"),
        (2, "Filter"),
    ]
    assert meta(offline.db)["next_mutation_id"] == "3"
    assert device_cli(offline.db, "note", job, "gate code 4411").code == 0
    assert [i["mutationId"] for i in device_cli(offline.db, "outbox", "--json").json()] == [1, 2, 3]
    shown = device_cli(offline.db, "show", job, "--json").json()
    assert [line["name"] for line in shown["orders"][0]["lineItems"]] == ["Diagnostic visit", "Capacitor", "Filter"]
    assert device_cli(offline.db, "outbox", "drop", "4").code == 2


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as running:
        yield running


def test_after_a_drop_the_server_sees_no_gap_and_rejections_can_be_cleared(
    server: ServerProcess, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        field = set_up_field(api)
        db = tmp_path / "phone.db"
        assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
        job, order = field.jobs["plain"], field.orders["plain"]
        for name in ("Wrong part", "Capacitor"):
            assert device_cli(db, "add-on", job, "--name", name, "--price", "1000").code == 0
        assert device_cli(db, "text-to-pay", job, "--order", order, "--amount", "8900").code == 0
        assert device_cli(db, "outbox", "drop", "1").code == 0
        # The office takes cash before the phone syncs: the text asks for more than is owed by then.
        paid = api.post("/v1/payments", json={"orderId": order, "amountMoney": usd(5000), "method": "cash"})
        assert paid.status_code == 201

        synced = device_cli(db, "sync")
        assert synced.code == 0, synced
        assert "Pushed 2 (1 applied, 1 rejected)" in synced.out
        assert "The server rejected 1 change(s)" in synced.out
        assert "#2 textToPay.request: amount_exceeds_balance" in synced.out
        lines = api.get(f"/v1/orders/{order}").json()["lineItems"]
        assert [line["name"] for line in lines] == ["Diagnostic visit", "Capacitor"]
        [rejected] = device_cli(db, "outbox", "--json").json()
        assert set(rejected) == PENDING_KEYS | {"code", "detail"}
        assert (rejected["mutationId"], rejected["status"], rejected["code"]) == (
            2,
            "rejected",
            "amount_exceeds_balance",
        )

        cleared = device_cli(db, "outbox", "drop", "2")
        assert cleared.code == 0 and "Cleared rejected mutation 2" in cleared.out
        assert device_cli(db, "outbox").out.strip() == "The outbox is empty."
        assert device_cli(db, "note", job, "all done").code == 0
        again = device_cli(db, "sync", "--json")
        assert again.code == 0 and (again.json()["pushed"], again.json()["applied"]) == (1, 1)


def test_a_mutation_that_may_have_reached_the_server_cannot_be_taken_back(
    server: ServerProcess, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        field = set_up_field(api)
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    job = field.jobs["plain"]
    assert device_cli(db, "add-on", job, "--name", "Capacitor", "--price", "1000").code == 0

    replica = Replica(db)
    try:
        with pytest.raises(Exception, match="could not reach"):
            Device(replica, transport=DropAfterCommit(drops=3)).sync()  # applied, every answer lost
    finally:
        replica.close()
    refused = device_cli(db, "outbox", "drop", "1")
    assert refused.code == 2 and "may be on the server" in refused.err
    assert device_cli(db, "sync").code == 0
    assert device_cli(db, "outbox", "--json").json() == []

    # Offline, nothing leaves the phone: a failed sync does not stop a take-back.
    assert device_cli(db, "add-on", job, "--name", "Wrong part", "--price", "1000").code == 0
    server.stop()
    assert device_cli(db, "sync").code == 1
    assert device_cli(db, "outbox", "drop", "2").code == 0
    assert device_cli(db, "outbox", "--json").json() == []


def test_a_push_the_server_refused_whole_does_not_stop_a_take_back(server: ServerProcess, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        field = set_up_field(api)
        db = tmp_path / "phone.db"
        assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
        assert device_cli(db, "add-on", field.jobs["plain"], "--name", "Wrong part", "--price", "1000").code == 0
        assert api.delete(f"/v1/devices/{field.device_id}").status_code == 204
    revoked = device_cli(db, "sync")
    assert revoked.code == 1 and "401" in revoked.err and "1 change(s) wait in the outbox" in revoked.err
    assert device_cli(db, "outbox", "drop", "1").code == 0
