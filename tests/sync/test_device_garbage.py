"""Nothing in the device file makes a command crash: outbox rows that no longer decode are shown
as such and can be dropped, malformed entities are left out, a damaged counter is refused."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.process import ServerProcess
from tests.sync.conftest import Offline
from tests.sync.devices import KEY, device_cli, outbox_rows, set_up_field

OLD_BAD_PHONE = {
    "name": "textToPay.request",
    "id": 1,
    "clientAt": "2026-05-01T09:00:00.000Z",
    "args": {"uid": "u-1", "orderId": "ord_x", "amountMoney": None, "to": "5551234"},
}


def put_rows(db: Path, sql: str, rows: list[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(db)
    conn.executemany(sql, rows)
    conn.commit()
    conn.close()


def garble_outbox(db: Path) -> None:
    """Rows an older app or a damaged file may hold, as pending and rejected mutations."""
    put_rows(
        db,
        "INSERT INTO outbox (id, name, mutation, client_at, state, code, detail, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [
            (1, "payment.recordOffline", b"\xff\xfe\x00", None, "rejected", 42, None, "2026-05-01T09:02:00Z"),
            (2, "textToPay.request", json.dumps(OLD_BAD_PHONE), "2026-05-01T09:00:00.000Z", "pending", None, None, "x"),
            (3, "order.addLineItem", "{not json", None, "pending", None, None, "2026-05-01T09:01:00Z"),
            (4, "job.setStatus", "[1, 2, 3]", 7, "pending", None, None, 12),
            (
                5,
                "time.travel",
                json.dumps({"id": 5, "name": "time.travel", "args": {}}),
                None,
                "pending",
                None,
                None,
                "",
            ),
            (60, "job.addNote", "null", None, "weird", None, None, ""),
        ],
    )
    put_rows(
        db,
        "INSERT INTO meta (key, value) VALUES ('next_mutation_id', '6')"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [()],
    )


def garble_entities(db: Path, job_id: str) -> None:
    good_order = {
        "id": "ord_odd",
        "state": "completed",
        "jobId": job_id,
        "metadata": {"paymentStage": 7},
        "lineItems": [
            {
                "uid": "l",
                "name": "\x1b[2JWiper",
                "quantity": 3,
                "unitPriceMoney": {"amount": -5, "currency": "EUR"},
                "kind": "mystery",
            }
        ],
        "totalMoney": {"amount": -15, "currency": "EUR"},
        "paidMoney": {"amount": 0, "currency": "EUR"},
        "refundedMoney": {"amount": 0, "currency": "EUR"},
        "createdAt": "1999",
    }
    put_rows(
        db,
        "INSERT INTO entities (entity, id, data) VALUES (?, ?, ?)",
        [
            ("order", "ord_bad1", "not json"),
            ("order", "ord_bad2", "[]"),
            ("order", "ord_bad3", json.dumps({"id": "ord_bad3", "jobId": job_id, "state": "open"})),
            ("order", "ord_bad4", None),
            ("order", "ord_bad5", json.dumps({**good_order, "id": "ord_bad5", "totalMoney": {"amount": "12"}})),
            ("order", "ord_odd", json.dumps(good_order)),
            ("job", "job_bad", json.dumps({"id": 5})),
            ("job", "job_bad2", b"\x00\x01"),
            ("customer", "cus_bad", "null"),
            ("note", "note_bad", json.dumps({"id": "n", "jobId": job_id})),
            ("payment", "pay_bad", "}{"),
        ],
    )


def every_command(db: Path, job_id: str) -> list[list[str]]:
    return [
        ["jobs"],
        ["jobs", "--json"],
        ["show", job_id],
        ["show", job_id, "--json"],
        ["add-on", job_id, "--name", "Capacitor", "--price", "4500"],
        ["text-to-pay", job_id],
        ["record-payment", job_id, "--amount", "100", "--method", "cash"],
        ["status", job_id, "on_site"],
        ["note", job_id, "gate code 4411"],
        ["outbox"],
        ["outbox", "--json"],
        ["sync"],
    ]


def test_garbage_in_the_outbox_and_the_replica_breaks_no_command(offline: Offline) -> None:
    job = offline.field.jobs["plain"]
    garble_outbox(offline.db)
    garble_entities(offline.db, job)
    for args in every_command(offline.db, job):
        ran = device_cli(offline.db, *args)
        assert ran.code in (0, 1), (args, ran)
        assert "Traceback" not in ran.err + ran.out
    [shown] = [j for j in device_cli(offline.db, "jobs", "--json").json() if j["id"] == job]
    assert [o["id"] for o in shown["orders"]] == ["ord_odd", offline.field.orders["plain"]]
    assert "\x1b" not in device_cli(offline.db, "show", job).out  # escaped, not sent to the terminal
    warned = device_cli(offline.db, "jobs").err
    assert "9 record(s) on this device could not be read" in warned
    assert "Mutation(s) 2, 3, 4, 5 in the outbox can no longer be read" in warned


def test_an_unreadable_mutation_is_shown_as_such_and_can_be_dropped(offline: Offline) -> None:
    garble_outbox(offline.db)
    items = device_cli(offline.db, "outbox", "--json").json()
    assert [(i["mutationId"], i["status"], i.get("code")) for i in items] == [
        (1, "rejected", "42"),
        (2, "pending", "unreadable"),
        (3, "pending", "unreadable"),
        (4, "pending", "unreadable"),
        (5, "pending", "unreadable"),
    ]
    assert items[1]["args"]["to"] == "5551234" and "to" in items[1]["detail"]
    assert items[2]["args"] is None
    text = device_cli(offline.db, "outbox").out
    assert "UNREADABLE" in text and "`flint device outbox drop 2` takes it back" in text

    job = offline.field.jobs["plain"]
    assert device_cli(offline.db, "add-on", job, "--name", "Capacitor", "--price", "4500").code == 0
    for mutation_id in (5, 3, 2, 2, 1):  # each pending drop moves the ones after it down
        dropped = device_cli(offline.db, "outbox", "drop", str(mutation_id))
        assert dropped.code == 0, dropped
    [left] = device_cli(offline.db, "outbox", "--json").json()
    assert (left["mutationId"], left["name"], left["status"]) == (2, "order.addLineItem", "pending")
    assert outbox_rows(offline.db)[-1][3] == "weird"  # a row in no known state is left alone


def test_a_damaged_mutation_counter_refuses_to_queue_and_nothing_else(offline: Offline) -> None:
    put_rows(offline.db, "UPDATE meta SET value = 'seven' WHERE key = ?", [("next_mutation_id",)])
    job = offline.field.jobs["plain"]
    queued = device_cli(offline.db, "note", job, "gate code 4411")
    assert queued.code == 2 and "damaged" in queued.err and "enrol the device again" in queued.err
    assert device_cli(offline.db, "jobs").code == 0
    assert device_cli(offline.db, "outbox").code == 0
    assert outbox_rows(offline.db) == []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as running:
        yield running


def test_a_sync_stops_at_an_unreadable_mutation_until_it_is_dropped(server: ServerProcess, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        field = set_up_field(api)
        db = tmp_path / "phone.db"
        assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
        job, order = field.jobs["plain"], field.orders["plain"]
        assert device_cli(db, "add-on", job, "--name", "Capacitor", "--price", "4500").code == 0
        put_rows(
            db,
            "INSERT INTO outbox (id, name, mutation, state, created_at)"
            " VALUES (2, 'job.setStatus', '{', 'pending', '')",
            [()],
        )
        put_rows(db, "UPDATE meta SET value = '3' WHERE key = ?", [("next_mutation_id",)])
        assert device_cli(db, "add-on", job, "--name", "Contactor", "--price", "3000").code == 0

        stuck = device_cli(db, "sync")
        assert stuck.code == 1
        assert "mutation 2 (job.setStatus) in the outbox can no longer be read" in stuck.err
        assert "flint device outbox drop 2" in stuck.err and "Pushed 1 (1 applied" in stuck.err
        names = [line["name"] for line in api.get(f"/v1/orders/{order}").json()["lineItems"]]
        assert names == ["Diagnostic visit", "Capacitor"]

        assert device_cli(db, "outbox", "drop", "2").code == 0
        synced = device_cli(db, "sync")
        assert synced.code == 0, synced
        names = [line["name"] for line in api.get(f"/v1/orders/{order}").json()["lineItems"]]
        assert names == ["Diagnostic visit", "Capacitor", "Contactor"]
        assert device_cli(db, "outbox", "--json").json() == []


def test_a_sync_mends_entities_the_device_can_no_longer_read(server: ServerProcess, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        field = set_up_field(api)
    db = tmp_path / "phone.db"
    assert device_cli(db, "enroll", "--server", server.url, "--token", field.token).code == 0
    job = field.jobs["plain"]
    before = device_cli(db, "show", job, "--json").json()
    put_rows(db, "UPDATE entities SET data = '{oops' WHERE id = ?", [(field.orders["plain"],)])
    damaged = device_cli(db, "show", job, "--json")
    assert damaged.json()["orders"] == [] and damaged.code == 0
    assert device_cli(db, "sync").code == 0
    assert device_cli(db, "show", job, "--json").json() == before
