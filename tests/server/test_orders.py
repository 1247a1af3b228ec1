from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import item, job, order, post, usd


async def test_the_briefs_order_request_works_as_written(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    created = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [
                {
                    "name": "Dispatch deposit",
                    "quantity": 1,
                    "unitPriceMoney": {"amount": 7500, "currency": "USD"},
                }
            ],
            "metadata": {
                "jobId": the_job["id"],
                "estimateId": "est_1042",
                "paymentStage": "dispatch_deposit",
            },
        },
    )
    assert created["id"].startswith("ord_")
    assert created["jobId"] == the_job["id"]
    assert created["customerId"] == the_job["customerId"]
    assert created["state"] == "open"
    assert created["version"] == 1
    assert created["metadata"]["paymentStage"] == "dispatch_deposit"
    [line] = created["lineItems"]
    assert line["kind"] == "service"
    assert line["addedBy"] == {"kind": "office", "id": "office"}
    assert created["totalMoney"] == usd(7500)
    assert created["balanceMoney"] == usd(7500)
    assert created["paidMoney"] == usd(0)
    assert created["refundedMoney"] == usd(0)

    fetched = (await client.get(f"/v1/orders/{created['id']}", headers=OFFICE)).json()
    assert fetched == created
    listed = (await client.get(f"/v1/orders?jobId={the_job['id']}", headers=OFFICE)).json()
    assert [o["id"] for o in listed["data"]] == [created["id"]]


async def test_totals_are_derived_from_line_items(client: AsyncTestClient[Any]) -> None:
    created = await order(
        client,
        None,
        item("Diagnostic", 8900),
        item("Trip charge", 2500, kind="travel"),
        item("Gasket", 1850, quantity=3, kind="material"),
        item("Loyalty discount", 1000, kind="discount"),
    )
    totals = [line["totalMoney"]["amount"] for line in created["lineItems"]]
    assert totals == [8900, 2500, 5550, 1000]
    assert created["totalMoney"] == usd(8900 + 2500 + 5550 - 1000)
    assert created["balanceMoney"] == created["totalMoney"]


async def test_adding_and_removing_line_items_moves_the_version_and_the_total(
    client: AsyncTestClient[Any],
) -> None:
    created = await order(client, None, item("Drain clearing", 14500))
    added = await post(
        client,
        f"/v1/orders/{created['id']}/line-items",
        {"lineItems": [item("Camera inspection", 9500, kind="addon", uid="cam-1")]},
        status=200,
    )
    assert added["version"] == 2
    assert added["totalMoney"] == usd(24000)
    assert [line["uid"] for line in added["lineItems"]][-1] == "cam-1"

    removed = await client.delete(f"/v1/orders/{created['id']}/line-items/cam-1", headers=OFFICE)
    assert removed.status_code == 200, removed.text
    assert removed.json()["version"] == 3
    assert removed.json()["totalMoney"] == usd(14500)

    missing = await client.delete(f"/v1/orders/{created['id']}/line-items/cam-1", headers=OFFICE)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


async def test_a_line_item_uid_is_unique_on_its_order(client: AsyncTestClient[Any]) -> None:
    created = await order(client, None, item("Drain clearing", 14500, uid="a"))
    again = await post(
        client, f"/v1/orders/{created['id']}/line-items", {"lineItems": [item("x", 1, uid="a")]}, status=422
    )
    assert again["code"] == "duplicate_uid"


async def test_currency_mismatch_and_negative_totals_are_refused(client: AsyncTestClient[Any]) -> None:
    mixed = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [
                item("a", 100),
                {**item("b", 100), "unitPriceMoney": {"amount": 100, "currency": "EUR"}},
            ]
        },
        status=422,
    )
    assert mixed["code"] == "currency_mismatch"

    negative = await post(
        client,
        "/v1/orders",
        {"lineItems": [item("a", 100), item("too much off", 200, kind="discount")]},
        status=422,
    )
    assert negative["code"] == "negative_total"

    created = await order(client, None, item("a", 100))
    later = await post(
        client,
        f"/v1/orders/{created['id']}/line-items",
        {"lineItems": [{**item("b", 100), "unitPriceMoney": {"amount": 100, "currency": "CAD"}}]},
        status=422,
    )
    assert later["code"] == "currency_mismatch"


async def test_unknown_job_in_metadata_is_refused(client: AsyncTestClient[Any]) -> None:
    problem = await post(
        client, "/v1/orders", {"lineItems": [item("a", 100)], "metadata": {"jobId": "job_nope"}}, status=422
    )
    assert problem["code"] == "unknown_job"


async def test_a_closed_order_takes_no_more_line_items(client: AsyncTestClient[Any]) -> None:
    created = await order(client, None, item("a", 100))
    done = await client.patch(f"/v1/orders/{created['id']}", json={"version": 1, "state": "completed"}, headers=OFFICE)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "completed"
    assert done.json()["version"] == 2

    closed = await post(client, f"/v1/orders/{created['id']}/line-items", {"lineItems": [item("b", 1)]}, status=422)
    assert closed["code"] == "order_closed"
    removed = await client.delete(
        f"/v1/orders/{created['id']}/line-items/{created['lineItems'][0]['uid']}", headers=OFFICE
    )
    assert removed.status_code == 422
    assert removed.json()["code"] == "order_closed"


async def test_a_stale_order_version_is_a_409_with_the_current_version(client: AsyncTestClient[Any]) -> None:
    created = await order(client, None, item("a", 100))
    await post(client, f"/v1/orders/{created['id']}/line-items", {"lineItems": [item("b", 1)]}, status=200)
    stale = await client.patch(
        f"/v1/orders/{created['id']}", json={"version": 1, "metadata": {"x": "y"}}, headers=OFFICE
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["currentVersion"] == 2


async def test_metadata_patch_replaces_the_whole_map(client: AsyncTestClient[Any]) -> None:
    created = await post(client, "/v1/orders", {"lineItems": [item("a", 100)], "metadata": {"a": "1", "b": "2"}})
    patched = await client.patch(
        f"/v1/orders/{created['id']}", json={"version": 1, "metadata": {"c": "3"}}, headers=OFFICE
    )
    assert patched.json()["metadata"] == {"c": "3"}
    nulls = await client.patch(
        f"/v1/orders/{created['id']}", json={"version": 2, "metadata": {"c": None}}, headers=OFFICE
    )
    assert nulls.status_code == 400


async def test_an_order_for_a_job_adds_to_the_jobs_payment_summary(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    await order(client, the_job["id"], item("Deposit", 7500, kind="deposit"))
    second = await order(client, the_job["id"], item("Repair", 20000), item("Coupon", 2000, kind="discount"))
    cancelled = await order(client, the_job["id"], item("Quoted but declined", 99900))
    await client.patch(f"/v1/orders/{cancelled['id']}", json={"version": 1, "state": "cancelled"}, headers=OFFICE)

    summary = (await client.get(f"/v1/jobs/{the_job['id']}", headers=OFFICE)).json()["payment"]
    assert summary == {
        "totalMoney": usd(7500 + 18000),
        "paidMoney": usd(0),
        "refundedMoney": usd(0),
        "balanceMoney": usd(7500 + 18000),
        "depositUnappliedMoney": usd(0),
    }
    assert second["customerId"] == the_job["customerId"]
