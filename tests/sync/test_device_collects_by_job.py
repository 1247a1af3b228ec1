"""A device collects for the job (contract §7 v2): text-to-pay texts the job's balance, cash by
job is applied oldest order first, and nothing due is `nothing_due`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import get, item, post, usd
from tests.sync.conftest import Phone, assigned_job


def text_to_pay(mutation_id: int, **args: Any) -> dict[str, Any]:
    return {"id": mutation_id, "name": "textToPay.request", "args": {"uid": str(uuid.uuid4()), **args}}


def cash(mutation_id: int, amount: int, **args: Any) -> dict[str, Any]:
    return {
        "id": mutation_id,
        "name": "payment.recordOffline",
        "args": {"uid": str(uuid.uuid4()), "amountMoney": usd(amount), "method": "cash", **args},
    }


async def test_text_to_pay_by_job_texts_the_jobs_balance(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, first = await assigned_job(client, phone, item("Diagnostic", 8900))
    second = await post(
        client, "/v1/orders", {"lineItems": [item("Capacitor", 4500)], "metadata": {"jobId": job["id"]}}
    )
    answer = await phone.push(text_to_pay(1, jobId=job["id"]))
    [result] = answer["results"]
    assert result["status"] == "applied", result
    made = await get(client, f"/v1/payment-links/{result['data']['paymentLinkId']}")
    assert (made["jobId"], made["orderId"], made["fixed"], made["amountMoney"]) == (job["id"], None, False, usd(13400))
    message = await get(client, f"/v1/sms/{result['data']['smsId']}")
    assert "$134.00" in message["body"] and made["url"] in message["body"]

    # The same job's balance link is reused; cash by job pays the oldest order first.
    again = await phone.push(text_to_pay(2, jobId=job["id"]), cash(3, 10000, jobId=job["id"]))
    assert again["results"][0]["data"]["paymentLinkId"] == made["id"]
    assert again["results"][1]["status"] == "applied"
    assert (await get(client, f"/v1/orders/{first['id']}"))["balanceMoney"] == usd(0)
    assert (await get(client, f"/v1/orders/{second['id']}"))["balanceMoney"] == usd(3400)

    await phone.push(cash(4, 3400, jobId=job["id"]))
    nothing = await phone.push(text_to_pay(5, jobId=job["id"]))
    assert nothing["results"][0]["code"] == "nothing_due"


async def test_job_and_order_are_exclusive_and_scoped(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    answer = await phone.push(
        text_to_pay(1, jobId=job["id"], orderId=order["id"]),
        text_to_pay(2),
        cash(3, 100, jobId="job_someone_elses"),
        text_to_pay(4, jobId=job["id"], to="5551234"),
    )
    assert [r["code"] for r in answer["results"]] == ["invalid_args", "invalid_args", "not_found", "invalid_args"]
