from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import cash, get, item, job, link, order, pay, post, usd


async def refund(client: AsyncTestClient[Any], payment_id: str, amount: int, status: int = 201, **headers: str) -> Any:
    body = {"paymentId": payment_id, "amountMoney": usd(amount), "reason": "part of the job was not done"}
    return await post(client, "/v1/refunds", body, status, **headers)


async def test_cash_and_check_are_recorded_against_the_balance(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    paid = await cash(client, the_order["id"], 5000)
    assert paid["id"].startswith("pay_")
    assert (paid["method"], paid["source"], paid["status"]) == ("cash", "office", "captured")
    assert "card" not in paid
    check = await post(
        client,
        "/v1/payments",
        {"orderId": the_order["id"], "amountMoney": usd(15000), "method": "check", "reference": "#1042"},
    )
    assert check["reference"] == "#1042"
    summary = (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]
    assert summary["paidMoney"] == usd(20000)
    assert summary["balanceMoney"] == usd(0)
    nothing = await cash(client, the_order["id"], 1, status=422)
    assert nothing["code"] == "nothing_due"
    trail = await get(client, f"/v1/jobs/{the_job['id']}/trail")
    assert [e["type"] for e in trail["events"]].count("payment.recorded") == 2


async def test_more_than_the_balance_is_refused(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    problem = await cash(client, the_order["id"], 5001, status=422)
    assert problem["code"] == "amount_exceeds_balance"
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(0)


@pytest.mark.parametrize(
    "body",
    [
        {"orderId": "x", "amountMoney": {"amount": 0, "currency": "USD"}, "method": "cash"},
        {"orderId": "x", "amountMoney": {"amount": 100, "currency": "USD"}, "method": "card"},
        {"orderId": "x", "amountMoney": {"amount": 100, "currency": "USD"}},
    ],
)
async def test_malformed_payments_are_400(client: AsyncTestClient[Any], body: dict[str, Any]) -> None:
    assert (await post(client, "/v1/payments", body, 400))["code"] == "invalid_request"


async def test_a_cancelled_order_takes_no_payment(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    await client.patch(f"/v1/orders/{the_order['id']}", json={"version": 1, "state": "cancelled"}, headers=OFFICE)
    assert (await cash(client, the_order["id"], 100, status=422))["code"] == "order_closed"
    assert (await cash(client, "ord_nope", 100, status=422))["code"] == "unknown_order"


async def test_partial_refunds_add_up_to_at_most_the_payment(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    made = await link(client, the_order["id"], 10000)
    await pay(client, made)
    [card] = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]

    first = await refund(client, card["id"], 2500)
    assert (first["status"], first["amountMoney"], first["orderId"]) == (
        "completed",
        usd(2500),
        the_order["id"],
    )
    await refund(client, card["id"], 7000)
    over = await refund(client, card["id"], 501, status=422)
    assert over["code"] == "refund_exceeds_payment"
    await refund(client, card["id"], 500)
    assert (await refund(client, card["id"], 1, status=422))["code"] == "refund_exceeds_payment"

    payment = await get(client, f"/v1/payments/{card['id']}")
    assert payment["refundedMoney"] == usd(10000)
    figures = await get(client, f"/v1/orders/{the_order['id']}")
    assert (figures["paidMoney"], figures["refundedMoney"], figures["balanceMoney"]) == (
        usd(10000),
        usd(10000),
        usd(20000),
    )
    trail = await get(client, f"/v1/jobs/{the_job['id']}/trail")
    refunds = [e for e in trail["events"] if e["type"] == "refund.created"]
    assert [e["data"]["amountMoney"]["amount"] for e in refunds] == [2500, 7000, 500]
    assert refunds[0]["data"]["reason"] == "part of the job was not done"


async def test_cash_and_check_can_be_refunded(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    paid = await cash(client, the_order["id"], 5000)
    await refund(client, paid["id"], 1000)
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["balanceMoney"] == usd(1000)


async def test_a_declined_payment_is_not_refundable(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    await pay(client, await link(client, the_order["id"]), cardNumber="4000000000000002")
    [declined] = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert (await refund(client, declined["id"], 100, status=422))["code"] == "payment_not_refundable"
    assert (await refund(client, "pay_nope", 100, status=422))["code"] == "unknown_payment"


async def test_concurrent_refunds_never_exceed_the_payment(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 10000))
    paid = await cash(client, the_order["id"], 10000)
    body = {"paymentId": paid["id"], "amountMoney": usd(3000), "reason": "goodwill"}
    responses = await asyncio.gather(*(client.post("/v1/refunds", json=body, headers=OFFICE) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [422] * 7
    assert (await get(client, f"/v1/payments/{paid['id']}"))["refundedMoney"] == usd(9000)


async def test_a_refund_is_idempotent(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 10000))
    await pay(client, await link(client, the_order["id"]))
    [card] = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    headers = {**OFFICE, "Idempotency-Key": "refund-1"}
    body = {"paymentId": card["id"], "amountMoney": usd(6000), "reason": "goodwill"}
    first = await client.post("/v1/refunds", json=body, headers=headers)
    again = await client.post("/v1/refunds", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    assert (await get(client, f"/v1/payments/{card['id']}"))["refundedMoney"] == usd(6000)
    # A refused refund is replayed as refused, even once the refund would be allowed.
    big = {**body, "amountMoney": usd(5000)}
    refused = await client.post("/v1/refunds", json=big, headers={**OFFICE, "Idempotency-Key": "refund-2"})
    assert refused.status_code == 422
    replay = await client.post("/v1/refunds", json=big, headers={**OFFICE, "Idempotency-Key": "refund-2"})
    assert replay.content == refused.content


async def test_removing_a_paid_line_item_would_overpay(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 10000), item("Filter", 2500, kind="addon", uid="f"))
    await cash(client, the_order["id"], 11000)
    response = await client.delete(f"/v1/orders/{the_order['id']}/line-items/f", headers=OFFICE)
    assert response.status_code == 422
    assert response.json()["code"] == "would_overpay"
    discount = await post(
        client,
        f"/v1/orders/{the_order['id']}/line-items",
        {"lineItems": [item("Coupon", 2000, kind="discount")]},
        422,
    )
    assert discount["code"] == "would_overpay"
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["totalMoney"] == usd(12500)


async def test_an_order_with_money_paid_cannot_be_cancelled(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 10000))
    paid = await cash(client, the_order["id"], 4000)
    response = await client.patch(
        f"/v1/orders/{the_order['id']}", json={"version": 1, "state": "cancelled"}, headers=OFFICE
    )
    assert response.status_code == 422
    assert response.json()["code"] == "order_has_payments"
    await refund(client, paid["id"], 4000)
    response = await client.patch(
        f"/v1/orders/{the_order['id']}", json={"version": 1, "state": "cancelled"}, headers=OFFICE
    )
    assert response.status_code == 200
