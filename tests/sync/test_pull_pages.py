"""Contract §7 v2: `limit` bounds a page; rejections are listed until pulled past once; an order
moved to another job leaves one device and reaches the other."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import cash, item, link, post
from tests.sync.conftest import Phone, add_line, assigned_job, phone_for
from tests.sync.test_pull import replica


async def pull_all(phone: Phone, limit: int, cursor: str | None = None) -> tuple[list[dict[str, Any]], str, int]:
    changes: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = await phone.pull(cursor, limit)
        assert len(page["changes"]) <= limit, page["changes"]
        changes += page["changes"]
        cursor, pages = page["cursor"], pages + 1
        if not page["hasMore"]:
            return changes, cursor, pages


def steady(held: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """What a replica holds, a text's delivery status aside (the worker moves it between pulls)."""
    return {key: (None if key[0] == "sms" else data) for key, data in held.items()}


async def test_a_snapshot_page_never_passes_the_limit(client: AsyncTestClient[Any], phone: Phone) -> None:
    for _ in range(3):
        _, order = await assigned_job(client, phone, *[item(f"Line {i}", 100 + i) for i in range(5)])
        await link(client, order["id"], 100)
        await cash(client, order["id"], 50)
    whole, _, one_page = await pull_all(phone, 1000)
    assert one_page == 1
    for limit in (1, 2, 3, 7):
        paged, cursor, pages = await pull_all(phone, limit)
        assert steady(replica(paged)) == steady(replica(whole))
        assert pages >= len(replica(whole)) // limit
        after = await phone.pull(cursor, limit)
        # Only the receipts' delivery moves on (the text worker retries them meanwhile).
        assert [c for c in after["changes"] if c["entity"] != "sms"] == [] and after["hasMore"] is False


async def test_a_page_of_the_log_passes_the_limit_only_for_one_big_transaction(
    client: AsyncTestClient[Any], phone: Phone
) -> None:
    job, order = await assigned_job(client, phone)
    _, cursor, _ = await pull_all(phone, 100)
    for amount in range(1, 6):  # five transactions, all about the same order and job: one page
        await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("Part", amount)]}, 200)
    added = [
        await post(client, "/v1/orders", {"lineItems": [item("Extra", 100)], "metadata": {"jobId": job["id"]}})
        for _ in range(3)
    ]
    await client.patch(f"/v1/jobs/{job['id']}", json={"version": 1, "title": "Renamed"}, headers=OFFICE)
    changes, _, pages = await pull_all(phone, 2, cursor)
    held = replica(changes)
    assert held[("job", job["id"])]["title"] == "Renamed"
    assert len(held[("order", order["id"])]["lineItems"]) == 6
    assert all(("order", o["id"]) in held for o in added)
    assert pages >= 3

    # One transaction that alone says more than the limit is one page, whole.
    moved = await phone_for(client, "Priya Nair")
    _, cursor = await moved.pull_all()
    await client.patch(
        f"/v1/jobs/{job['id']}", json={"version": 2, "technicianId": moved.technician_id}, headers=OFFICE
    )
    page = await moved.pull(cursor, 2)
    assert len(page["changes"]) > 2 and page["hasMore"] is False


async def test_rejections_are_listed_until_pulled_past_once(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    first = await phone.pull()
    pushed = await phone.push(add_line(1, order["id"]), add_line(2, "ord_nope"), add_line(3, order["id"]))
    assert pushed["results"][1]["status"] == "rejected"
    seen = await phone.pull(first["cursor"])
    assert [r["mutationId"] for r in seen["rejections"]] == [2]
    lost = await phone.pull(first["cursor"])  # the answer was lost: asked again from the same place
    assert [r["mutationId"] for r in lost["rejections"]] == [2]
    past = await phone.pull(seen["cursor"])
    assert past["rejections"] == []
    fresh = await phone.pull()  # a device starting over hears of it again
    assert [r["mutationId"] for r in fresh["rejections"]] == [2]


async def test_an_order_moved_to_another_technicians_job_moves_between_devices(client: AsyncTestClient[Any]) -> None:
    sam = await phone_for(client, "Sam Ortiz")
    priya = await phone_for(client, "Priya Nair")
    _, order = await assigned_job(client, sam)
    made = await link(client, order["id"], 1000)
    their_job, _ = await assigned_job(client, priya)
    sam_before, sam_cursor, _ = await pull_all(sam, 200)
    priya_before, priya_cursor, _ = await pull_all(priya, 200)
    assert ("order", order["id"]) in replica(sam_before)

    moved = await client.patch(
        f"/v1/orders/{order['id']}", json={"version": 1, "metadata": {"jobId": their_job["id"]}}, headers=OFFICE
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["jobId"] == their_job["id"]

    sam_changes, _, _ = await pull_all(sam, 200, sam_cursor)
    sam_now = replica(sam_changes, replica(sam_before))
    assert ("order", order["id"]) not in sam_now
    assert ("paymentLink", made["id"]) not in sam_now
    priya_changes, _, _ = await pull_all(priya, 200, priya_cursor)
    priya_now = replica(priya_changes, replica(priya_before))
    assert priya_now[("order", order["id"])]["jobId"] == their_job["id"]
    assert ("paymentLink", made["id"]) in priya_now


async def test_a_bundle_that_shrinks_between_snapshot_pages_skips_nothing(
    client: AsyncTestClient[Any], phone: Phone
) -> None:
    """A snapshot page ends inside a job's bundle; before the next page an earlier order of that
    job moves away. The next page still brings every order not sent yet (v3: a page resumes after
    the last entity it sent, not after a count)."""
    job, first = await assigned_job(client, phone)
    rest = [
        await post(client, "/v1/orders", {"lineItems": [item(f"Part {i}", 100 + i)], "metadata": {"jobId": job["id"]}})
        for i in range(3)
    ]
    page = await phone.pull(None, 3)  # the customer, the job, the first order
    assert [c["entity"] for c in page["changes"]] == ["customer", "job", "order"] and page["hasMore"]
    await client.patch(f"/v1/orders/{first['id']}", json={"version": 1, "metadata": {}}, headers=OFFICE)
    changes, cursor, _ = await pull_all(phone, 3, page["cursor"])
    held = replica(changes, replica(page["changes"]))
    assert all(("order", o["id"]) in held for o in rest)
    later, _, _ = await pull_all(phone, 3, cursor)  # the log since the snapshot began: it left the job
    assert ("order", first["id"]) not in replica(later, held)
