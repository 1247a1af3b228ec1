"""Contract §1 v2 limits: what a user types can be refused, never stored half-way, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE, table_counts
from tests.helpers import GOOD_CARD, cash, customer, item, job, link, order, pay_path, post, usd

MAX = 999_999_999_999


async def refused(client: AsyncTestClient[Any], method: str, path: str, body: Any, status: int = 400) -> Any:
    response = await client.request(method, path, json=body, headers=OFFICE)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def test_an_amount_past_the_largest_is_400(client: AsyncTestClient[Any]) -> None:
    problem = await refused(client, "POST", "/v1/orders", {"lineItems": [item("a", MAX + 1)]})
    assert problem["errors"][0]["field"] == "lineItems[0].unitPriceMoney.amount"
    assert (await post(client, "/v1/orders", {"lineItems": [item("a", MAX)]}))["totalMoney"] == usd(MAX)


async def test_a_derived_figure_past_the_largest_is_amount_too_large(
    client: AsyncTestClient[Any], db_path: Path
) -> None:
    before = table_counts(db_path)
    line = await refused(client, "POST", "/v1/orders", {"lineItems": [item("a", MAX, quantity=10000)]}, 422)
    assert line["code"] == "amount_too_large"
    total = await refused(client, "POST", "/v1/orders", {"lineItems": [item("a", MAX), item("b", 1)]}, 422)
    assert total["code"] == "amount_too_large"
    assert table_counts(db_path) == before

    big = await post(client, "/v1/orders", {"lineItems": [item("a", MAX)]})
    grown = await refused(client, "POST", f"/v1/orders/{big['id']}/line-items", {"lineItems": [item("b", 1)]}, 422)
    assert grown["code"] == "amount_too_large"

    the_job = await job(client)
    await order(client, the_job["id"], item("a", MAX))
    other = await refused(
        client, "POST", "/v1/orders", {"lineItems": [item("b", 1)], "metadata": {"jobId": the_job["id"]}}, 422
    )
    assert other["code"] == "amount_too_large"
    assert "job" in other["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/customers", {"name": "x" * 201, "phone": "+15555550101", "kind": "residential"}, "name"),
        ("/v1/customers", {"name": "Ann\u0000", "phone": "+15555550101", "kind": "residential"}, "name"),
        ("/v1/customers", {"name": "Ann\n", "phone": "+15555550101", "kind": "residential"}, "name"),
        ("/v1/customers", {"name": "Ann", "phone": "+15555550101\n", "kind": "residential"}, "phone"),
        ("/v1/technicians", {"name": "Sam\u0007"}, "name"),
        ("/v1/jobs", {"customerId": "c" * 65, "title": "t", "address": "a"}, "customerId"),
        ("/v1/jobs", {"customerId": "c", "title": "t", "address": "a" * 2001}, "address"),
        ("/v1/jobs", {"customerId": "c", "title": "t", "address": "1 Main\r"}, "address"),
        ("/v1/orders", {"lineItems": [item("a", 1, uid="u" * 65)]}, "lineItems[0].uid"),
        ("/v1/orders", {"lineItems": [item("a", 1)], "metadata": {"k" * 41: "v"}}, "metadata"),
        ("/v1/orders", {"lineItems": [item("a", 1)], "metadata": {"k": "v" * 501}}, "metadata"),
        ("/v1/orders", {"lineItems": [item("a", 1)], "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        (
            "/v1/orders",
            {"lineItems": [item("a", 1, unitPriceMoney={"amount": 1, "currency": "ABC"})]},
            "lineItems[0].unitPriceMoney.currency",
        ),
        (
            "/v1/orders",
            {"lineItems": [item("a", 1, unitPriceMoney={"amount": 1, "currency": "XTS"})]},
            "lineItems[0].unitPriceMoney.currency",
        ),
    ],
)
async def test_strings_and_codes_past_their_limits_are_400(
    client: AsyncTestClient[Any], db_path: Path, path: str, body: dict[str, Any], field: str
) -> None:
    before = table_counts(db_path)
    problem = await refused(client, "POST", path, body)
    assert problem["code"] == "invalid_request"
    assert problem["errors"][0]["field"] == field
    assert table_counts(db_path) == before


async def test_free_text_keeps_newlines_and_tabs_and_other_currencies_work(client: AsyncTestClient[Any]) -> None:
    made = await job(client, address="Unit 4B\n90 Oakridge Court\tSpringfield")
    assert made["address"] == "Unit 4B\n90 Oakridge Court\tSpringfield"
    euros = await post(
        client, "/v1/orders", {"lineItems": [item("a", 1, unitPriceMoney={"amount": 150, "currency": "EUR"})]}
    )
    assert euros["totalMoney"] == {"amount": 150, "currency": "EUR"}


@pytest.mark.parametrize(
    "when", ["9999-12-31T23:59:59-05:00", "1999-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"]
)
async def test_times_outside_the_years_2000_to_2999_are_400(client: AsyncTestClient[Any], when: str) -> None:
    who = await customer(client)
    problem = await refused(
        client, "POST", "/v1/jobs", {"customerId": who["id"], "title": "t", "address": "a", "scheduledAt": when}
    )
    assert problem["errors"][0]["field"] == "scheduledAt"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/customers"),
        ("POST", "/v1/orders"),
        ("POST", "/v1/payment-links"),
        ("POST", "/v1/payments"),
        ("POST", "/v1/refunds"),
        ("PATCH", "/v1/jobs/job_x"),
    ],
)
async def test_a_body_that_is_not_utf8_is_400(client: AsyncTestClient[Any], method: str, path: str) -> None:
    for body in (b'{"name": "\xff\xfe"}', b"\xc3\x28", b'{"lineItems": [{"name": "caf\xe9"}]}'):
        response = await client.request(
            method, path, content=body, headers={**OFFICE, "Content-Type": "application/json", "Idempotency-Key": "k"}
        )
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["code"] == "invalid_request"


async def test_cursors_past_the_largest_position_are_400(client: AsyncTestClient[Any]) -> None:
    import base64

    for number in (str(2**63), "9" * 40, "²"):
        cursor = base64.urlsafe_b64encode(f"n:{number}".encode()).decode().rstrip("=")
        response = await client.get(f"/v1/orders?cursor={cursor}", headers=OFFICE)
        assert response.status_code == 400, (number, response.text)


@pytest.mark.parametrize("number", ["4242 4242 4242 424²", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "４２４２４２４２４２４２４２４２"])
async def test_the_card_form_takes_ascii_digits_only(client: AsyncTestClient[Any], number: str) -> None:
    the_order = await order(client, None, item("Service", 8900))
    the_link = await link(client, the_order["id"], 8900)
    response = await client.post(pay_path(the_link), data={**GOOD_CARD, "cardNumber": number})
    assert response.status_code == 400
    payments = (await client.get(f"/v1/payments?orderId={the_order['id']}", headers=OFFICE)).json()["data"]
    assert payments == []
    for field, value in (("cvc", "١٢٣"), ("expMonth", "١٢"), ("expYear", "２０３４")):
        response = await client.post(pay_path(the_link), data={**GOOD_CARD, field: value})
        assert response.status_code == 400, field


async def test_messages_say_money_as_money(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Service", 12000))
    over = await cash(client, the_order["id"], 50000, status=422)
    assert over["code"] == "amount_exceeds_balance"
    assert "$500.00" in over["detail"] and "$120.00" in over["detail"]
    euros = await post(
        client,
        "/v1/payments",
        {"orderId": the_order["id"], "amountMoney": {"amount": 100, "currency": "EUR"}, "method": "cash"},
        422,
    )
    assert euros["code"] == "currency_mismatch"
    assert "currency mismatch" in euros["detail"]
    payment = await cash(client, the_order["id"], 2000)
    refund = await post(
        client, "/v1/refunds", {"paymentId": payment["id"], "amountMoney": usd(2500), "reason": "x"}, 422
    )
    assert "$25.00" in refund["detail"] and "$20.00" in refund["detail"]
    wrong = await post(
        client,
        "/v1/refunds",
        {"paymentId": payment["id"], "amountMoney": {"amount": 100, "currency": "GBP"}, "reason": "x"},
        422,
    )
    assert "currency mismatch" in wrong["detail"]


async def test_a_detail_never_echoes_more_than_200_characters(client: AsyncTestClient[Any]) -> None:
    long_id = "ord_" + "x" * 5000
    response = await client.get(f"/v1/orders/{long_id}", headers=OFFICE)
    assert response.status_code == 400  # contract v3: no id is that long
    assert len(response.json()["detail"]) <= 200
    missing = await client.get(f"/v1/orders/{long_id[:64]}", headers=OFFICE)
    assert missing.status_code == 404 and len(missing.json()["detail"]) <= 200
    problem = await refused(client, "POST", "/v1/orders", {"lineItems": [item("a", 1)], "y" * 5000: 1})
    assert len(problem["detail"]) <= 200
    assert all(len(e["field"]) <= 200 and len(e["message"]) <= 200 for e in problem["errors"])
