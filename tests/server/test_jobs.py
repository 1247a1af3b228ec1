from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import item, job, order, post, technician


async def test_a_job_starts_scheduled_at_version_one(client: AsyncTestClient[Any]) -> None:
    created = await job(client, scheduledAt="2026-05-02T09:30:00+02:00")
    assert created["id"].startswith("job_")
    assert created["status"] == "scheduled"
    assert created["version"] == 1
    assert created["scheduledAt"] == "2026-05-02T07:30:00.000Z"
    assert created["technicianId"] is None


async def test_a_stale_version_is_a_409_with_current_version(client: AsyncTestClient[Any]) -> None:
    created = await job(client)
    first = await client.patch(f"/v1/jobs/{created['id']}", json={"version": 1, "title": "New title"}, headers=OFFICE)
    assert first.status_code == 200
    assert first.json()["version"] == 2

    stale = await client.patch(f"/v1/jobs/{created['id']}", json={"version": 1, "status": "en_route"}, headers=OFFICE)
    assert stale.status_code == 409
    body = stale.json()
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "version_conflict"
    assert body["currentVersion"] == 2
    after = (await client.get(f"/v1/jobs/{created['id']}", headers=OFFICE)).json()
    assert after["status"] == "scheduled"
    assert after["version"] == 2


async def test_assigning_and_unassigning_a_technician(client: AsyncTestClient[Any]) -> None:
    tech = await technician(client)
    created = await job(client)
    assigned = await client.patch(
        f"/v1/jobs/{created['id']}", json={"version": 1, "technicianId": tech["id"]}, headers=OFFICE
    )
    assert assigned.json()["technicianId"] == tech["id"]
    unknown = await client.patch(
        f"/v1/jobs/{created['id']}", json={"version": 2, "technicianId": "tech_nope"}, headers=OFFICE
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_technician"
    cleared = await client.patch(f"/v1/jobs/{created['id']}", json={"version": 2, "technicianId": None}, headers=OFFICE)
    assert cleared.json()["technicianId"] is None
    assert cleared.json()["version"] == 3


async def test_a_completed_job_stays_completed(client: AsyncTestClient[Any]) -> None:
    created = await job(client)
    await client.patch(f"/v1/jobs/{created['id']}", json={"version": 1, "status": "completed"}, headers=OFFICE)
    reopened = await client.patch(f"/v1/jobs/{created['id']}", json={"version": 2, "status": "on_site"}, headers=OFFICE)
    assert reopened.status_code == 422
    assert reopened.json()["code"] == "invalid_transition"


async def test_unknown_customer_is_refused(client: AsyncTestClient[Any]) -> None:
    problem = await post(client, "/v1/jobs", {"customerId": "cus_nope", "title": "x", "address": "y"}, status=422)
    assert problem["code"] == "unknown_customer"


async def test_the_trail_lists_every_change_in_order_with_its_actor(client: AsyncTestClient[Any]) -> None:
    tech = await technician(client)
    created = await job(client, technicianId=tech["id"])
    the_order = await order(client, created["id"], item("Deposit", 7500, kind="deposit"))
    await post(
        client,
        f"/v1/orders/{the_order['id']}/line-items",
        {"lineItems": [item("Filter", 1250, kind="addon", uid="f1")]},
        status=200,
    )
    await client.delete(f"/v1/orders/{the_order['id']}/line-items/f1", headers=OFFICE)
    await client.patch(f"/v1/jobs/{created['id']}", json={"version": 1, "status": "en_route"}, headers=OFFICE)

    trail = (await client.get(f"/v1/jobs/{created['id']}/trail", headers=OFFICE)).json()
    assert trail["jobId"] == created["id"]
    events = trail["events"]
    assert [e["type"] for e in events] == [
        "job.created",
        "job.assigned",
        "order.created",
        "order.line_item_added",
        "order.line_item_removed",
        "job.status_changed",
    ]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(e["actor"] == {"kind": "office", "id": "office"} for e in events)
    assert all(e["at"].endswith("Z") for e in events)
    assert events[3]["data"]["orderTotalMoney"] == {"amount": 8750, "currency": "USD"}
    assert events[4]["data"]["orderTotalMoney"] == {"amount": 7500, "currency": "USD"}
    assert events[5]["data"] == {"from": "scheduled", "to": "en_route"}


async def test_a_refused_change_leaves_no_trail(client: AsyncTestClient[Any]) -> None:
    created = await job(client)
    the_order = await order(client, created["id"], item("a", 100))
    await post(
        client,
        f"/v1/orders/{the_order['id']}/line-items",
        {"lineItems": [item("b", 500, kind="discount")]},
        status=422,
    )
    trail = (await client.get(f"/v1/jobs/{created['id']}/trail", headers=OFFICE)).json()
    assert [e["type"] for e in trail["events"]] == ["job.created", "order.created"]


async def test_jobs_list_filters_and_pages(client: AsyncTestClient[Any]) -> None:
    tech = await technician(client)
    mine = [await job(client, technicianId=tech["id"]) for _ in range(3)]
    await job(client)
    seen: list[str] = []
    cursor = None
    while True:
        query = f"/v1/jobs?technicianId={tech['id']}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=OFFICE)).json()
        seen += [j["id"] for j in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [j["id"] for j in mine]
