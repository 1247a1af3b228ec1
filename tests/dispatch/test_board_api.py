"""`GET /v1/dispatch/board`: every job with its money and last event, every technician with
their last sync (contract §6), read with the same few queries however many jobs there are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.clock import format_time
from server.dispatch import service
from server.store.db import Tx, connect
from tests.conftest import OFFICE, FakeClock
from tests.dispatch.conftest import log_in
from tests.helpers import cash, customer, get, item, job, link, order, pay, post, technician, usd
from tests.sync.conftest import phone_for


async def test_the_board_shows_each_job_with_its_money_and_last_event(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    sam = await technician(client, "Sam Ortiz")
    maria = await customer(client)
    later = await job(client, customerId=maria["id"], technicianId=sam["id"], scheduledAt="2026-05-01T18:00:00Z")
    sooner = await job(client, customerId=maria["id"], title="Drain clog", scheduledAt="2026-05-01T16:00:00Z")
    deposit = await order(client, later["id"], item("Dispatch deposit", 7500, kind="deposit"))
    work = await order(client, later["id"], item("Diagnostic", 8900), item("Trip", 2500, kind="travel"))
    paid = await cash(client, deposit["id"], 7500)
    await post(client, "/v1/refunds", {"paymentId": paid["id"], "amountMoney": usd(1000), "reason": "goodwill"})
    clock.advance(minutes=5)
    await pay(client, await link(client, work["id"], 2000))

    board = await get(client, "/v1/dispatch/board")

    assert set(board) == {"technicians", "jobs", "disabledWebhookEndpoints", "nextCursor", "pastDuePlans"}
    assert board["disabledWebhookEndpoints"] == [] and board["nextCursor"] is None
    assert board["technicians"] == [{"id": sam["id"], "name": "Sam Ortiz", "lastSyncAt": None}]
    assert [j["id"] for j in board["jobs"]] == [sooner["id"], later["id"]]  # by when they are due
    first = board["jobs"][1]
    assert set(first) == {
        "id", "title", "status", "technicianId", "customerName", "scheduledAt",
        "totalMoney", "paidMoney", "balanceMoney", "lastEventAt",
    }  # fmt: skip
    assert first["title"] == "AC not cooling"
    assert (first["status"], first["technicianId"], first["customerName"]) == ("scheduled", sam["id"], "Maria Alvarez")
    assert first["scheduledAt"] == "2026-05-01T18:00:00.000Z"
    assert first["totalMoney"] == usd(7500 + 8900 + 2500)
    assert first["paidMoney"] == usd(7500 + 2000)  # as GET /v1/jobs/{id} has it: captured, before refunds
    assert first["balanceMoney"] == usd(7500 + 8900 + 2500 - (7500 + 2000 - 1000))
    assert first["balanceMoney"] == (await get(client, f"/v1/jobs/{later['id']}"))["payment"]["balanceMoney"]
    trail = (await get(client, f"/v1/jobs/{later['id']}/trail"))["events"]
    assert first["lastEventAt"] == trail[-1]["at"] == format_time(clock.now)
    second = board["jobs"][0]
    assert (second["technicianId"], second["totalMoney"], second["paidMoney"]) == (None, usd(0), usd(0))


async def test_a_push_moves_the_technicians_last_sync(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    phone = await phone_for(client)
    assert (await get(client, "/v1/dispatch/board"))["technicians"][0]["lastSyncAt"] is None
    await phone.push()
    assert (await get(client, "/v1/dispatch/board"))["technicians"][0]["lastSyncAt"] == format_time(clock.now)


async def test_the_board_filters_by_technician_and_status(client: AsyncTestClient[Any]) -> None:
    sam, priya = await technician(client, "Sam Ortiz"), await technician(client, "Priya Nair")
    mine = await job(client, technicianId=sam["id"])
    theirs = await job(client, technicianId=priya["id"])
    nobodys = await job(client)
    await client.patch(
        f"/v1/jobs/{theirs['id']}", json={"version": theirs["version"], "status": "on_site"}, headers=OFFICE
    )

    def ids(board: dict[str, Any]) -> list[str]:
        return [j["id"] for j in board["jobs"]]

    assert ids(await get(client, f"/v1/dispatch/board?technicianId={sam['id']}")) == [mine["id"]]
    assert ids(await get(client, "/v1/dispatch/board?status=on_site")) == [theirs["id"]]
    assert set(ids(await get(client, "/v1/dispatch/board"))) == {mine["id"], theirs["id"], nobodys["id"]}
    bad = await client.get("/v1/dispatch/board?status=lunch", headers=OFFICE)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_request")


async def test_the_dispatch_api_needs_the_office_key(client: AsyncTestClient[Any]) -> None:
    phone = await phone_for(client)
    for path in ("/v1/dispatch/board", "/v1/dispatch/events"):
        missing = await client.get(path)
        assert missing.status_code == 401
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "unauthorized"
        wrong = await client.get(path, headers={"Authorization": "Bearer not-the-key"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "unauthorized")
        device = await client.get(path, headers=phone.headers)
        assert (device.status_code, device.json()["code"]) == (403, "forbidden")


def _count_reads(db_path: Path, now: str, **filters: Any) -> tuple[int, service.BoardView]:
    conn = connect(db_path)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        conn.execute("BEGIN")
        view = service.board(Tx(conn, now, writable=False), **filters)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements), view


async def test_the_board_costs_the_same_queries_for_two_jobs_or_twenty(
    client: AsyncTestClient[Any], db_path: Path, clock: FakeClock
) -> None:
    sam = await technician(client)
    who = await customer(client)
    for _ in range(2):
        made = await job(client, customerId=who["id"], technicianId=sam["id"])
        await cash(client, (await order(client, made["id"], item("Work", 5000)))["id"], 1000)
    few, view = _count_reads(db_path, format_time(clock.now))
    assert len(view.jobs) == 2
    for _ in range(18):
        made = await job(client, customerId=(await customer(client))["id"], technicianId=sam["id"])
        await cash(client, (await order(client, made["id"], item("Work", 5000)))["id"], 1000)
    many, view = _count_reads(db_path, format_time(clock.now))
    assert len(view.jobs) == 20
    assert many == few == 10  # with the webhook endpoints switched off for failing, and the plans past due


async def test_a_jobs_last_event_is_money_or_status_not_a_text(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    """Contract §3 v3 / issue 17: the board reads as money. The cash's receipt text (queued, then
    sent and delivered later) does not become the job's last event."""
    the_job = await job(client)
    work = await order(client, the_job["id"], item("Repair", 20000))
    clock.advance(minutes=1)
    await cash(client, work["id"], 5000)
    texts = (await get(client, f"/v1/sms?jobId={the_job['id']}"))["data"]
    assert texts  # the receipt was texted after the payment
    paid_at = format_time(clock.now)
    clock.advance(minutes=3)
    board = await get(client, "/v1/dispatch/board")
    line = next(j for j in board["jobs"] if j["id"] == the_job["id"])
    assert line["lastEventAt"] == paid_at
    await log_in(client)
    row = (await client.get("/dispatch")).text.split(f'id="job-{the_job["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Cash payment $50.00" in row and "Text" not in row
