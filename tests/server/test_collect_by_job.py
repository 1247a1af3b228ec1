"""Collect what the job owes (contract §3 v2): deposits carry over, balance links follow the money,
one charge pays several orders oldest first."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import get, item, job, pay, pay_path, post, usd


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


async def deposit_job(client: AsyncTestClient[Any], deposit: int = 7500) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job with a dispatch deposit order, as the brief makes it."""
    the_job = await job(client)
    order = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [{"name": "Dispatch deposit", "quantity": 1, "unitPriceMoney": usd(deposit)}],
            "metadata": {"jobId": the_job["id"], "estimateId": "est_1", "paymentStage": "dispatch_deposit"},
        },
    )
    return the_job, order


async def work_order(client: AsyncTestClient[Any], job_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    return await post(
        client, "/v1/orders", {"lineItems": list(items), "metadata": {"jobId": job_id, "paymentStage": "onsite"}}
    )


async def paid_by_card(client: AsyncTestClient[Any], body: dict[str, Any], **card: str) -> dict[str, Any]:
    made = await post(client, "/v1/payment-links", body, status=201)
    response = await pay(client, made, **card)
    assert response.status_code == 200, response.text
    return made


async def test_a_paid_deposit_carries_over_to_the_work_order(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client)
    await paid_by_card(client, {"name": "Dispatch deposit", "orderId": deposit["id"], "amountMoney": usd(7500)})
    work = await work_order(client, the_job["id"], item("Compressor repair", 120000))

    work = await get(client, f"/v1/orders/{work['id']}")
    [applied] = [line for line in work["lineItems"] if line["kind"] == "deposit_applied"]
    assert applied["name"] == "Deposit applied"
    assert applied["totalMoney"] == usd(7500)
    assert applied["addedBy"]["kind"] == "system"
    assert work["totalMoney"] == usd(112500)
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert shown["payment"]["balanceMoney"] == usd(112500)
    assert shown["payment"]["depositUnappliedMoney"] == usd(0)
    assert [(o["id"], o["paymentStage"]) for o in shown["orders"]] == [
        (deposit["id"], "dispatch_deposit"),
        (work["id"], "onsite"),
    ]
    trail = [e["type"] for e in (await get(client, f"/v1/jobs/{the_job['id']}/trail"))["events"]]
    assert "order.deposit_applied" in trail

    # Nobody but Flint sets it.
    removed = await client.delete(f"/v1/orders/{work['id']}/line-items/{applied['uid']}", headers=OFFICE)
    assert removed.status_code == 422 and removed.json()["code"] == "system_line"
    added = await post(
        client, f"/v1/orders/{work['id']}/line-items", {"lineItems": [item("x", 100, kind="deposit_applied")]}, 422
    )
    assert added["code"] == "system_line"


async def test_a_deposit_paid_after_the_work_order_is_applied_then(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client)
    work = await work_order(client, the_job["id"], item("Repair", 20000))
    assert (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["depositUnappliedMoney"] == usd(0)
    await post(client, "/v1/payments", {"orderId": deposit["id"], "amountMoney": usd(7500), "method": "cash"})
    assert (await get(client, f"/v1/orders/{work['id']}"))["totalMoney"] == usd(12500)
    assert (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["balanceMoney"] == usd(12500)


async def test_a_partial_refund_of_the_deposit_raises_the_balance_by_exactly_the_refund(
    client: AsyncTestClient[Any],
) -> None:
    the_job, deposit = await deposit_job(client)
    paid = await post(client, "/v1/payments", {"orderId": deposit["id"], "amountMoney": usd(7500), "method": "cash"})
    work = await work_order(client, the_job["id"], item("Repair", 120000))
    before = (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["balanceMoney"]["amount"]
    await post(client, "/v1/refunds", {"paymentId": paid["id"], "amountMoney": usd(3000), "reason": "moved the visit"})
    after = await get(client, f"/v1/jobs/{the_job['id']}")
    assert after["payment"]["balanceMoney"]["amount"] == before + 3000
    deposit_now = await get(client, f"/v1/orders/{deposit['id']}")
    assert deposit_now["balanceMoney"] == usd(0)
    assert deposit_now["totalMoney"] == usd(4500)
    assert (await get(client, f"/v1/orders/{work['id']}"))["totalMoney"] == usd(120000 - 4500)


async def test_a_deposit_bigger_than_the_work_waits_unapplied(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client, 20000)
    await post(client, "/v1/payments", {"orderId": deposit["id"], "amountMoney": usd(20000), "method": "cash"})
    work = await work_order(client, the_job["id"], item("Small fix", 5000))
    assert (await get(client, f"/v1/orders/{work['id']}"))["totalMoney"] == usd(0)
    assert (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["depositUnappliedMoney"] == usd(15000)
    await post(client, f"/v1/orders/{work['id']}/line-items", {"lineItems": [item("More work", 30000)]}, 200)
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert shown["payment"]["depositUnappliedMoney"] == usd(0)
    assert shown["payment"]["balanceMoney"] == usd(15000)


async def test_a_balance_link_follows_the_money_and_is_asked_for_once(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    order = await work_order(client, the_job["id"], item("Repair", 34400))
    first = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    assert (first["fixed"], first["amountMoney"], first["jobId"], first["orderId"]) == (
        False,
        usd(34400),
        the_job["id"],
        None,
    )
    again = await client.post("/v1/payment-links", json={"name": "Again", "jobId": the_job["id"]}, headers=OFFICE)
    assert again.status_code == 200 and again.json()["id"] == first["id"]

    await post(client, "/v1/payments", {"jobId": the_job["id"], "amountMoney": usd(7500), "method": "cash"})
    assert (await get(client, f"/v1/payment-links/{first['id']}"))["amountMoney"] == usd(26900)
    page = await client.get(pay_path(first))
    assert "Amount due now $269.00" in text_of(page.text) and "Pay $269.00" in text_of(page.text)
    assert "Pay $344.00" not in text_of(page.text)
    paid = await pay(client, first)
    assert paid.status_code == 200
    assert (await get(client, f"/v1/orders/{order['id']}"))["balanceMoney"] == usd(0)
    settled = await get(client, f"/v1/payment-links/{first['id']}")
    assert settled["status"] == "paid" and settled["amountMoney"] == usd(26900)

    # More work later: a new balance link, not the paid one.
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("Filter", 1200)]}, 200)
    later = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    assert later["id"] != first["id"] and later["amountMoney"] == usd(1200)


async def test_a_closed_link_turns_active_when_more_is_owed_and_cannot_be_texted_closed(
    client: AsyncTestClient[Any],
) -> None:
    the_job = await job(client)
    order = await work_order(client, the_job["id"], item("Repair", 5000))
    made = await post(client, "/v1/payment-links", {"name": "Balance", "orderId": order["id"]})
    await post(client, "/v1/payments", {"orderId": order["id"], "amountMoney": usd(5000), "method": "check"})
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "closed"
    refused = await post(client, f"/v1/payment-links/{made['id']}/send-sms", None, 422)
    assert refused["code"] == "link_not_active"
    closed = await client.get(pay_path(made))
    assert 'name="cardNumber"' not in closed.text and "$50.00" in text_of(closed.text)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("Part", 900)]}, 200)
    reopened = await get(client, f"/v1/payment-links/{made['id']}")
    assert (reopened["status"], reopened["amountMoney"]) == ("active", usd(900))


async def test_one_card_charge_pays_two_orders_oldest_first_and_part_of_it_refunds(
    client: AsyncTestClient[Any],
) -> None:
    the_job = await job(client)
    older = await work_order(client, the_job["id"], item("Diagnostic", 8900))
    newer = await work_order(client, the_job["id"], item("Capacitor", 4500))
    made = await paid_by_card(client, {"name": "Balance", "jobId": the_job["id"]})
    payments = (await get(client, f"/v1/payments?jobId={the_job['id']}"))["data"]
    assert [(p["orderId"], p["amountMoney"]["amount"]) for p in payments] == [(older["id"], 8900), (newer["id"], 4500)]
    assert len({p["chargeId"] for p in payments}) == 1 and payments[0]["chargeId"]
    assert all(p["paymentLinkId"] == made["id"] and p["jobId"] == the_job["id"] for p in payments)
    trail = (await get(client, f"/v1/jobs/{the_job['id']}/trail"))["events"]
    [captured] = [e for e in trail if e["type"] == "payment.captured"]
    assert captured["data"]["amountMoney"] == usd(13400)
    assert [part["orderId"] for part in captured["data"]["parts"]] == [older["id"], newer["id"]]

    await post(client, "/v1/refunds", {"paymentId": payments[1]["id"], "amountMoney": usd(1500), "reason": "part"})
    assert (await get(client, f"/v1/orders/{newer['id']}"))["balanceMoney"] == usd(1500)
    assert (await get(client, f"/v1/orders/{older['id']}"))["balanceMoney"] == usd(0)
    assert (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["balanceMoney"] == usd(1500)
    receipt = text_of((await client.get(pay_path(made))).text)
    assert "Paid $134.00" in receipt and "Refunded $15.00" in receipt and "$15.00" in receipt.split("Still due")[1]


async def test_job_cash_goes_to_the_oldest_order_first(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    older = await work_order(client, the_job["id"], item("Diagnostic", 8900))
    newer = await work_order(client, the_job["id"], item("Capacitor", 4500))
    first = await post(client, "/v1/payments", {"jobId": the_job["id"], "amountMoney": usd(10000), "method": "cash"})
    assert first["orderId"] == older["id"] and first["amountMoney"] == usd(8900)
    assert (await get(client, f"/v1/orders/{newer['id']}"))["balanceMoney"] == usd(3400)
    too_much = await post(
        client, "/v1/payments", {"jobId": the_job["id"], "amountMoney": usd(3401), "method": "cash"}, 422
    )
    assert too_much["code"] == "amount_exceeds_balance"
    neither = await post(client, "/v1/payments", {"amountMoney": usd(1), "method": "cash"}, 400)
    assert neither["code"] == "invalid_request"


async def test_after_a_decline_the_form_keeps_expiry_and_postal_code(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    await work_order(client, the_job["id"], item("Repair", 5000))
    made = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    declined = await pay(client, made, cardNumber="4000000000000002", expMonth="07", expYear="2031", postalCode="60614")
    assert declined.status_code == 402
    assert 'value="07"' in declined.text and 'value="2031"' in declined.text and 'value="60614"' in declined.text
    assert "4000000000000002" not in declined.text
    assert re.search(r'<input id="cvc"[^>]*value=', declined.text) is None
