from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE, FakeClock
from tests.helpers import cash, get, item, job, link, order, pay, pay_path, post, usd


async def test_a_link_collects_the_balance_by_default(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"])
    assert made["id"].startswith("plink_")
    assert made["amountMoney"] == usd(20000)
    assert made["status"] == "active"
    assert made["orderId"] == the_order["id"]
    token = made["url"].rsplit("/", 1)[1]
    assert made["url"] == f"http://flint.test/pay/{token}"
    assert token != made["id"] and made["id"] not in made["url"]
    assert len(token) >= 22  # at least 128 random bits in URL-safe base64
    assert await get(client, f"/v1/payment-links/{made['id']}") == made


async def test_a_link_for_part_of_the_balance(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"], 7500)
    assert made["amountMoney"] == usd(7500)
    too_much = await post(
        client, "/v1/payment-links", {"name": "x", "orderId": the_order["id"], "amountMoney": usd(20001)}, 422
    )
    assert too_much["code"] == "amount_exceeds_balance"
    euros = await post(
        client,
        "/v1/payment-links",
        {"name": "x", "orderId": the_order["id"], "amountMoney": {"amount": 100, "currency": "EUR"}},
        422,
    )
    assert euros["code"] == "currency_mismatch"


async def test_nothing_due_means_no_link(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    await cash(client, the_order["id"], 5000)
    problem = await post(client, "/v1/payment-links", {"name": "x", "orderId": the_order["id"]}, 422)
    assert problem["code"] == "nothing_due"


async def test_exactly_one_of_order_and_line_items(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    both = {"name": "x", "orderId": the_order["id"], "lineItems": [item("a", 1)]}
    assert (await post(client, "/v1/payment-links", both, 400))["code"] == "invalid_request"
    assert (await post(client, "/v1/payment-links", {"name": "x"}, 400))["code"] == "invalid_request"
    unknown = await post(client, "/v1/payment-links", {"name": "x", "orderId": "ord_nope"}, 422)
    assert unknown["code"] == "unknown_order"


async def test_the_briefs_payment_link_request_works_as_written(client: AsyncTestClient[Any]) -> None:
    made = await post(
        client,
        "/v1/payment-links",
        {
            "name": "Dispatch deposit",
            "lineItems": [
                {
                    "name": "Dispatch deposit",
                    "quantity": 1,
                    "unitPriceMoney": {"amount": 7500, "currency": "USD"},
                }
            ],
        },
    )
    assert made["amountMoney"] == usd(7500)
    the_order = await get(client, f"/v1/orders/{made['orderId']}")
    assert [line["name"] for line in the_order["lineItems"]] == ["Dispatch deposit"]
    assert the_order["totalMoney"] == usd(7500)


async def test_a_link_from_line_items_can_join_a_job(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    made = await post(
        client,
        "/v1/payment-links",
        {"name": "Deposit", "lineItems": [item("Deposit", 7500)], "metadata": {"jobId": the_job["id"]}},
    )
    the_order = await get(client, f"/v1/orders/{made['orderId']}")
    assert the_order["jobId"] == the_job["id"]
    trail = await get(client, f"/v1/jobs/{the_job['id']}/trail")
    assert [e["type"] for e in trail["events"]] == ["job.created", "order.created", "payment_link.created"]


async def test_a_cancelled_link_is_gone(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"])
    cancelled = await post(client, f"/v1/payment-links/{made['id']}/cancel", None, 200)
    assert cancelled["status"] == "cancelled"
    assert (await client.get(pay_path(made))).status_code == 410
    assert (await pay(client, made)).status_code == 410
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(0)
    again = await post(client, f"/v1/payment-links/{made['id']}/cancel", None, 200)
    assert again["status"] == "cancelled"


async def test_a_paid_link_cannot_be_cancelled(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"])
    assert (await pay(client, made)).status_code == 200
    problem = await post(client, f"/v1/payment-links/{made['id']}/cancel", None, 422)
    assert problem["code"] == "payment_link_paid"


async def test_a_link_expires(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"], expiresAt="2026-05-01T16:00:00Z")
    assert made["expiresAt"] == "2026-05-01T16:00:00.000Z"
    clock.advance(hours=3)
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "expired"
    assert (await client.get(pay_path(made))).status_code == 410
    assert (await pay(client, made)).status_code == 410
    past = await post(
        client,
        "/v1/payment-links",
        {"name": "x", "orderId": the_order["id"], "expiresAt": "2020-01-01T00:00:00Z"},
        400,
    )
    assert past["errors"][0]["field"] == "expiresAt"


async def test_links_default_to_thirty_days(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"])
    assert made["expiresAt"] == "2026-05-31T14:00:00.000Z"


async def test_links_are_listed_by_order(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    first = await link(client, the_order["id"], 1000)
    second = await link(client, the_order["id"], 2000)
    listed = (await client.get(f"/v1/payment-links?orderId={the_order['id']}", headers=OFFICE)).json()
    assert [entry["id"] for entry in listed["data"]] == [first["id"], second["id"]]
