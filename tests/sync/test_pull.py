from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import cash, item, link, post
from tests.sync.conftest import Phone, add_line, assigned_job, phone_for


def replica(
    changes: list[dict[str, Any]], start: dict[tuple[str, str], Any] | None = None
) -> dict[tuple[str, str], Any]:
    """What a device holds after applying `changes` in order."""
    held = dict(start or {})
    for change in changes:
        key = (change["entity"], change["id"])
        if change["op"] == "put":
            held[key] = change["data"]
        else:
            held.pop(key, None)
    return held


async def _texts_tried(db_path: Path) -> None:
    """Until the text worker has tried every queued text once (each try changes the text's row,
    which a pull would then carry); with no scheduler in tests, a failed try is not retried."""
    for _ in range(200):
        with sqlite3.connect(db_path) as conn:
            waiting = "SELECT count(*) FROM sms_messages WHERE attempts = 0 OR status = 'sending'"
            if conn.execute(waiting).fetchone()[0] == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the text worker never tried the queued texts")


async def test_a_first_pull_is_the_whole_scope(client: AsyncTestClient[Any], phone: Phone, db_path: Path) -> None:
    job, order = await assigned_job(client, phone)
    made = await link(client, order["id"], 1000)
    await cash(client, order["id"], 500)
    other = await phone_for(client, "Priya Nair")
    await assigned_job(client, other)
    await _texts_tried(db_path)

    page = await phone.pull()
    assert page["reset"] is True and page["hasMore"] is False
    held = replica(page["changes"])
    kinds = sorted({entity for entity, _ in held})
    assert kinds == ["customer", "job", "order", "payment", "paymentLink", "sms"]  # the cash's receipt text
    assert held[("job", job["id"])]["title"] == "AC not cooling"
    assert held[("order", order["id"])]["balanceMoney"]["amount"] == 8400
    assert held[("paymentLink", made["id"])]["url"] == made["url"]
    assert len([k for k in held if k[0] == "job"]) == 1  # not the other technician's
    assert page["technicianId"] == phone.technician_id

    again = await phone.pull(page["cursor"])
    assert (again["changes"], again["reset"], again["hasMore"]) == ([], False, False)


async def test_changes_arrive_as_puts_of_the_entity_now(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    first = await phone.pull()
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("Filter", 1250)]}, 200)
    await client.patch(
        f"/v1/jobs/{job['id']}", json={"version": 1, "title": "AC not cooling (upstairs)"}, headers=OFFICE
    )
    page = await phone.pull(first["cursor"])
    held = replica(page["changes"])
    assert held[("order", order["id"])]["totalMoney"]["amount"] == 10150
    assert held[("job", job["id"])]["title"] == "AC not cooling (upstairs)"
    assert len(page["changes"]) == len(held)  # each entity once per page


async def test_a_reassigned_job_leaves_the_replica_whole(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    kept_job, _ = await assigned_job(client, phone)
    await link(client, order["id"], 1000)
    await phone.push({"id": 1, "name": "job.addNote", "args": {"uid": "n1", "jobId": job["id"], "text": "dog in yard"}})
    first = await phone.pull()
    held = replica(first["changes"])
    assert ("note", "n1") in held

    other = await phone_for(client, "Priya Nair")
    await client.patch(
        f"/v1/jobs/{job['id']}", json={"version": 1, "technicianId": other.technician_id}, headers=OFFICE
    )
    page = await phone.pull(first["cursor"])
    after = replica(page["changes"], held)
    assert [k for k in after if k[0] == "job"] == [("job", kept_job["id"])]
    assert not any(k[0] in ("order", "paymentLink", "note") and k in held and k not in after for k in after)
    assert {k for k in held if k not in after} >= {("job", job["id"]), ("order", order["id"]), ("note", "n1")}

    # The technician who got the job gets it whole.
    gained = replica((await other.pull())["changes"])
    assert {("job", job["id"]), ("order", order["id"]), ("note", "n1")} <= gained.keys()
    assert any(k[0] == "customer" for k in gained)


async def test_a_job_assigned_later_arrives_whole_and_a_cancelled_one_leaves(
    client: AsyncTestClient[Any], phone: Phone
) -> None:
    first = await phone.pull()
    unassigned = await post(client, "/v1/customers", {"name": "Ann", "phone": "+15555550177", "kind": "residential"})
    job = await post(client, "/v1/jobs", {"customerId": unassigned["id"], "title": "Leak", "address": "2 Main"})
    order = await post(client, "/v1/orders", {"lineItems": [item("Fix", 100)], "metadata": {"jobId": job["id"]}})
    await client.patch(
        f"/v1/jobs/{job['id']}", json={"version": 1, "technicianId": phone.technician_id}, headers=OFFICE
    )
    page = await phone.pull(first["cursor"])
    held = replica(page["changes"])
    assert {("job", job["id"]), ("order", order["id"]), ("customer", unassigned["id"])} <= held.keys()

    await client.patch(f"/v1/jobs/{job['id']}", json={"version": 2, "status": "cancelled"}, headers=OFFICE)
    gone = replica((await phone.pull(page["cursor"]))["changes"], held)
    assert not any(k[0] in ("job", "order", "customer") for k in gone)


async def test_small_pages_never_lose_or_repeat_a_change(client: AsyncTestClient[Any], phone: Phone) -> None:
    jobs = [await assigned_job(client, phone) for _ in range(4)]
    snapshot_pages = []
    cursor = None
    held: dict[tuple[str, str], Any] = {}
    while True:  # a snapshot in pages of one job
        page = await phone.pull(cursor, limit=3)
        snapshot_pages.append(page)
        held = replica(page["changes"], held)
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert len(snapshot_pages) == 4
    assert [p["reset"] for p in snapshot_pages] == [True, False, False, False]

    # Many changes, then pages of two.
    seq = 1
    for _, order in jobs:
        await phone.push(add_line(seq, order["id"], 100 * seq), add_line(seq + 1, order["id"], 7))
        seq += 2
        await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("office add", 300)]}, 200)
    cursors = [cursor]
    while True:
        page = await phone.pull(cursor, limit=2)
        held = replica(page["changes"], held)
        cursor = page["cursor"]
        cursors.append(cursor)
        if not page["hasMore"]:
            break
    assert len(set(cursors)) == len(cursors)  # every page moved on

    full = replica((await phone.pull(None))["changes"])
    assert held == full


async def test_a_cursor_too_old_or_unknown(client: AsyncTestClient[Any], phone: Phone, db_path: Path) -> None:
    await assigned_job(client, phone)
    first = await phone.pull()
    _, order = await assigned_job(client, phone)
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM changes")  # the log was compacted past this device's cursor
    conn.commit()
    conn.close()
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("x", 1)]}, 200)
    page = await phone.pull(first["cursor"])
    assert page["reset"] is True
    assert len([c for c in page["changes"] if c["entity"] == "job"]) == 2
    response = await client.post(
        "/v1/sync/pull",
        json={"clientId": phone.client_id, "schemaVersion": 1, "cursor": "garbage!"},
        headers=phone.headers,
    )
    assert response.status_code == 400
