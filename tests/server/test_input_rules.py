"""Contract §1 (v3): an id in a path longer than 64 characters is 400; a problem's detail never
echoes a control character; money typed into a form takes ASCII digits only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.dispatch.conftest import log_in
from tests.helpers import get, item, job, link, order, pay_path, usd

LONG = "x" * 10_000
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/jobs/{id}"),
        ("PATCH", "/v1/jobs/{id}"),
        ("GET", "/v1/orders/{id}"),
        ("DELETE", "/v1/orders/ord_1/line-items/{id}"),
        ("POST", "/v1/payment-links/{id}/cancel"),
        ("GET", "/v1/service-plans/{id}/cycles"),
    ],
)
async def test_a_long_id_in_a_path_is_400(client: AsyncTestClient[Any], method: str, path: str) -> None:
    response = await client.request(method, path.format(id=LONG), headers=OFFICE)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_request"
    assert "64 characters" in body["detail"] and LONG[:65] not in response.text
    just_64 = await client.request(method, path.format(id="x" * 64), headers=OFFICE)
    assert just_64.status_code in (404, 400, 422) and "64 characters" not in just_64.text
    # Without a key it is 401 first, whatever the path.
    assert (await client.request(method, path.format(id=LONG))).status_code == 401


async def test_a_long_token_or_job_id_on_a_page_is_a_400_page(client: AsyncTestClient[Any]) -> None:
    customer = await client.get(f"/pay/{LONG}")
    assert customer.status_code == 400 and "This link is not valid" in customer.text
    assert customer.headers["content-security-policy"].startswith("default-src 'none'")
    await log_in(client)
    office = await client.get(f"/dispatch/jobs/{LONG}")
    assert office.status_code == 400 and office.headers["content-type"].startswith("text/html")
    assert LONG[:100] not in office.text


async def test_no_detail_echoes_a_control_character(client: AsyncTestClient[Any]) -> None:
    answers = [
        await client.get("/v1/jobs/job_%00%1b%e2%80%ae", headers=OFFICE),
        await client.post(
            "/v1/customers", json={"name": "Ana\x00", "phone": "+15555550100", "kind": "residential"}, headers=OFFICE
        ),
        await client.post(
            "/v1/customers",
            json={"name": "Ana", "phone": "+15555550100", "kind": "residential", "no\x00te": 1},
            headers=OFFICE,
        ),
        await client.post("/v1/payments", content=b'{"orderId": "ord_\\u0000"}', headers=OFFICE),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        body = answer.json()
        texts = [body["detail"], *(e["field"] + e["message"] for e in body.get("errors", []))]
        assert not any(UNSAFE.search(text) for text in texts), body
    assert "\\x00" in answers[0].json()["detail"]  # said, but as an escape


async def test_a_pushed_rejection_never_echoes_a_control_character(client: AsyncTestClient[Any]) -> None:
    from tests.sync.conftest import assigned_job, phone_for

    phone = await phone_for(client)
    await assigned_job(client, phone)
    response = await phone.push({"id": 1, "name": "job.setStatus", "args": {"jobId": "job_\x00\x07", "status": "x"}})
    result = response["results"][0]
    assert result["status"] == "rejected" and not UNSAFE.search(result["detail"])


@pytest.mark.parametrize("typed", ["１２３", "٣", "12３.00", "१००"])
async def test_the_cash_form_takes_ascii_digits_only(client: AsyncTestClient[Any], typed: str) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 50000))
    token = await log_in(client)
    form = {"_csrf_token": token, "formKey": "k" * 20, "orderId": the_order["id"], "method": "cash", "amount": typed}
    refused = await client.post(f"/dispatch/jobs/{the_job['id']}/payments", data=form)
    assert refused.status_code == 400 and "Enter an amount such as $1,500.00." in refused.text
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(0)
    fine = await client.post(
        f"/dispatch/jobs/{the_job['id']}/payments", data={**form, "amount": "123"}, follow_redirects=False
    )
    assert fine.status_code == 303
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(12300)


async def test_a_customer_page_takes_ascii_digits_only(client: AsyncTestClient[Any]) -> None:
    """The card form (number, expiry, CVC, `expectedAmount`) was already ASCII-only: kept so."""
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"], 5000)
    card = {
        "cardNumber": "４２４２４２４２４２４２４２４２",
        "expMonth": "12",
        "expYear": "2030",
        "cvc": "123",
        "postalCode": "94110",
    }
    refused = await client.post(pay_path(made), data=card)
    assert refused.status_code == 400
    paid = await get(client, f"/v1/orders/{the_order['id']}")
    assert paid["paidMoney"] == usd(0)
