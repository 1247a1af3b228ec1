"""Invoices through the office API (contract §3): shapes, the schedule of payment requests, the
states and `overdue` as they are worked out, and the codes of what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.billing.office import (
    AP_PHONE,
    balance,
    deposit,
    invoice,
    page_path,
    pay_invoice,
    publish,
    published,
    texts,
    trail_types,
    work_order,
)
from tests.conftest import OFFICE, FakeClock
from tests.helpers import cash, get, item, order, post, usd

FIELDS = {
    "id", "number", "orderId", "jobId", "customerId", "state", "overdue", "recipient", "poNumber",
    "paymentRequests", "totalMoney", "paidMoney", "paidElsewhereMoney", "amountDueMoney", "nextDueDate",
    "publicUrl", "publishedAt", "createdAt", "updatedAt",
}  # fmt: skip


async def test_a_new_invoice_is_a_draft_with_one_balance_due_in_30_days(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client)
    response = await client.post(
        "/v1/invoices",
        json={"orderId": the_order["id"], "recipient": {"name": "Oakridge AP", "email": "ap@oakridge.example.com"}},
        headers=OFFICE,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) == FIELDS
    assert response.headers["location"] == f"/v1/invoices/{made['id']}"
    assert made["id"].startswith("inv_") and made["number"] == 1
    assert (made["orderId"], made["jobId"]) == (the_order["id"], the_order["jobId"])
    assert (made["state"], made["overdue"], made["publicUrl"]) == ("draft", False, None)
    assert made["recipient"] == {"name": "Oakridge AP", "phone": None, "email": "ap@oakridge.example.com"}
    [request] = made["paymentRequests"]
    assert request["type"] == "balance" and request["dueDate"] == "2026-05-31"  # the clock says May 1
    assert request["computedAmountMoney"] == usd(150000) and request["paidMoney"] == usd(0)
    assert made["totalMoney"] == made["amountDueMoney"] == usd(150000)
    assert await get(client, f"/v1/invoices/{made['id']}") == made
    assert "invoice.created" in await trail_types(client, the_order["jobId"])


async def test_deposits_by_amount_and_by_percentage_and_the_balance_is_the_rest(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=33333)
    made = await invoice(
        client,
        the_order["id"],
        deposit("2026-05-04", percentage=12.5),
        deposit("2026-05-10", amount=1000),
        balance("2026-05-31"),
        poNumber="PO-7781",
    )
    first, second, rest = made["paymentRequests"]
    # 12.5% of $333.33 is $41.66625: rounded to the cent, half up.
    assert (first["percentage"], first["computedAmountMoney"]) == (12.5, usd(4167))
    assert (second["amountMoney"], second["computedAmountMoney"]) == (usd(1000), usd(1000))
    assert "percentage" not in second and "amountMoney" not in first
    assert rest["computedAmountMoney"] == usd(33333 - 4167 - 1000)
    assert made["poNumber"] == "PO-7781"
    assert len({r["uid"] for r in made["paymentRequests"]}) == 3


async def test_the_balance_follows_the_order_as_it_changes(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=100000)
    made = await invoice(client, the_order["id"], deposit("2026-05-04", percentage=25), balance("2026-05-31"))
    await post(
        client, f"/v1/orders/{the_order['id']}/line-items", {"lineItems": [item("Gasket", 20000, kind="material")]}, 200
    )
    now = await get(client, f"/v1/invoices/{made['id']}")
    assert [r["computedAmountMoney"] for r in now["paymentRequests"]] == [usd(30000), usd(90000)]
    assert now["totalMoney"] == usd(120000)


async def test_publishing_gives_the_page_and_texts_the_recipient(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client)
    made = await invoice(client, the_order["id"], deposit("2026-05-04", amount=30000), balance("2026-05-31"))
    shown = await publish(client, made["id"])
    assert shown["state"] == "unpaid" and shown["publishedAt"] == "2026-05-01T14:00:00.000Z"
    assert shown["publicUrl"].startswith("http://flint.test/invoices/")
    assert len(shown["publicUrl"].rsplit("/", 1)[1]) >= 32  # at least 128 random bits
    assert shown["nextDueDate"] == "2026-05-04"
    [text] = await texts(client, orderId=the_order["id"])
    assert text["to"] == AP_PHONE and text["invoiceId"] == made["id"]
    assert "invoice #1 for $1,500.00, $300.00 due May 4, 2026" in text["body"]
    assert shown["publicUrl"] in text["body"]
    assert (await client.get(page_path(shown))).status_code == 200
    types = await trail_types(client, the_order["jobId"])
    assert types[-2:] == ["invoice.published", "sms.queued"]

    again = await client.post(f"/v1/invoices/{made['id']}/publish", headers=OFFICE)
    assert (again.status_code, again.json()["code"]) == (422, "invoice_not_draft")
    assert len(await texts(client, orderId=the_order["id"])) == 1


async def test_no_phone_no_text(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client)
    shown = await published(client, the_order["id"], phone=None)
    assert shown["state"] == "unpaid" and shown["publicUrl"]
    assert await texts(client, orderId=the_order["id"]) == []


async def test_overdue_is_worked_out_from_the_clock(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await work_order(client, amount=10000)
    shown = await published(client, the_order["id"], balance("2026-05-03"))
    clock.advance(days=2)  # May 3: due today, not overdue yet
    assert (await get(client, f"/v1/invoices/{shown['id']}"))["overdue"] is False
    clock.advance(days=1)
    now = await get(client, f"/v1/invoices/{shown['id']}")
    assert (now["state"], now["overdue"]) == ("unpaid", True)
    await cash(client, the_order["id"], 10000)
    now = await get(client, f"/v1/invoices/{shown['id']}")
    assert (now["state"], now["overdue"]) == ("paid", False)


async def test_money_paid_another_way_counts_toward_the_requests(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=100000)
    shown = await published(client, the_order["id"], deposit("2026-05-04", amount=30000), balance("2026-05-31"))
    await cash(client, the_order["id"], 40000)
    now = await get(client, f"/v1/invoices/{shown['id']}")
    assert now["state"] == "partially_paid"
    assert [r["amountDueMoney"] for r in now["paymentRequests"]] == [usd(0), usd(60000)]
    assert [r["paidMoney"] for r in now["paymentRequests"]] == [usd(0), usd(0)]  # nothing through the invoice
    assert (now["paidElsewhereMoney"], now["amountDueMoney"], now["nextDueDate"]) == (
        usd(40000),
        usd(60000),
        "2026-05-31",
    )


async def test_lists_by_order_and_by_job(client: AsyncTestClient[Any]) -> None:
    one, two = await work_order(client), await work_order(client)
    first, second = await invoice(client, one["id"]), await invoice(client, two["id"])
    by_order = await get(client, f"/v1/invoices?orderId={two['id']}")
    assert [i["id"] for i in by_order["data"]] == [second["id"]] and by_order["nextCursor"] is None
    by_job = await get(client, f"/v1/invoices?jobId={one['jobId']}")
    assert [i["id"] for i in by_job["data"]] == [first["id"]]
    page = await get(client, "/v1/invoices?limit=1")
    assert [i["number"] for i in page["data"]] == [1] and page["nextCursor"]
    rest = await get(client, f"/v1/invoices?limit=1&cursor={page['nextCursor']}")
    assert [i["number"] for i in rest["data"]] == [2]


async def test_cancel_only_without_payments(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client)
    draft = await invoice(client, the_order["id"])
    cancelled = await post(client, f"/v1/invoices/{draft['id']}/cancel", None, 200)
    assert (cancelled["state"], cancelled["amountDueMoney"]) == ("cancelled", usd(0))
    assert (await post(client, f"/v1/invoices/{draft['id']}/cancel", None, 200))["state"] == "cancelled"
    refused = await client.post(f"/v1/invoices/{draft['id']}/publish", headers=OFFICE)
    assert refused.json()["code"] == "invoice_cancelled"
    # The order may be invoiced again once its invoice is cancelled; the number moves on.
    shown = await published(client, the_order["id"])
    assert shown["number"] == 2
    assert (await pay_invoice(client, shown)).status_code == 200
    refused = await client.post(f"/v1/invoices/{shown['id']}/cancel", headers=OFFICE)
    assert (refused.status_code, refused.json()["code"]) == (422, "invoice_has_payments")
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_cancelled_invoice_page_is_gone(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client)
    shown = await published(client, the_order["id"])
    await post(client, f"/v1/invoices/{shown['id']}/cancel", None, 200)
    page = await client.get(page_path(shown))
    assert page.status_code == 410 and "no longer active" in page.text and "cardNumber" not in page.text


BAD_BODIES = [
    ({"orderId": "x", "recipient": {"name": "A"}, "line_items": []}, "line_items"),
    ({"orderId": "x"}, "recipient"),
    ({"orderId": "x", "recipient": {"name": "A", "phone": "555"}}, "recipient.phone"),
    ({"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [balance("2026-5-31")]}, "dueDate"),
    ({"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [balance("2026-02-30")]}, "dueDate"),
    ({"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [balance("2026-04-30")]}, "dueDate"),
    ({"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": []}, "paymentRequests"),
    (
        {"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [balance("2026-05-31"), balance("2026-06-30")]},
        "paymentRequests",
    ),
    ({"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [deposit("2026-05-04", 100)]}, "paymentRequests"),
    (
        {
            "orderId": "x",
            "recipient": {"name": "A"},
            "paymentRequests": [deposit("2026-05-04", 100, 10), balance("2026-05-31")],
        },
        "paymentRequests[0]",
    ),
    (
        {"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [deposit("2026-05-04"), balance("2026-05-31")]},
        "paymentRequests[0]",
    ),
    (
        {
            "orderId": "x",
            "recipient": {"name": "A"},
            "paymentRequests": [deposit("2026-05-04", percentage=12.345), balance("2026-05-31")],
        },
        "percentage",
    ),
    (
        {
            "orderId": "x",
            "recipient": {"name": "A"},
            "paymentRequests": [deposit("2026-05-04", percentage=100), balance("2026-05-31")],
        },
        "percentage",
    ),
    (
        {
            "orderId": "x",
            "recipient": {"name": "A"},
            "paymentRequests": [deposit("2026-06-04", 100), balance("2026-05-31")],
        },
        "dueDate",
    ),
    (
        {"orderId": "x", "recipient": {"name": "A"}, "paymentRequests": [{**balance("2026-05-31"), "percentage": 5}]},
        "paymentRequests[0]",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_malformed_invoices_are_400_naming_the_field(
    client: AsyncTestClient[Any], body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/invoices", json=body, headers=OFFICE)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "invalid_request"
    assert any(field in error["field"] for error in problem["errors"]), problem


async def test_rules_an_invoice_keeps_are_422(client: AsyncTestClient[Any]) -> None:
    async def refused(body: dict[str, Any]) -> str:
        response = await client.post("/v1/invoices", json=body, headers=OFFICE)
        assert response.status_code == 422, response.text
        code: str = response.json()["code"]
        return code

    who = {"name": "Oakridge AP"}
    assert await refused({"orderId": "ord_nope", "recipient": who}) == "unknown_order"
    the_order = await work_order(client, amount=10000)
    too_much = [deposit("2026-05-04", 10000), balance("2026-05-31")]
    assert await refused({"orderId": the_order["id"], "recipient": who, "paymentRequests": too_much}) == (
        "deposit_exceeds_total"
    )
    euros = [{**deposit("2026-05-04"), "amountMoney": {"amount": 100, "currency": "EUR"}}, balance("2026-05-31")]
    assert await refused({"orderId": the_order["id"], "recipient": who, "paymentRequests": euros}) == (
        "currency_mismatch"
    )
    await invoice(client, the_order["id"])
    assert await refused({"orderId": the_order["id"], "recipient": who}) == "order_already_invoiced"
    paid = await order(client, None, item("Filter", 500))
    await cash(client, paid["id"], 500)
    assert await refused({"orderId": paid["id"], "recipient": who}) == "nothing_due"
    gone = await order(client, None, item("Filter", 500))
    cancelled = await client.patch(
        f"/v1/orders/{gone['id']}", json={"version": 1, "state": "cancelled"}, headers=OFFICE
    )
    assert cancelled.status_code == 200, cancelled.text
    assert await refused({"orderId": gone["id"], "recipient": who}) == "order_closed"


async def test_unknown_invoices_are_404(client: AsyncTestClient[Any]) -> None:
    for method, path in (
        ("GET", "/v1/invoices/inv_nope"),
        ("POST", "/v1/invoices/inv_nope/publish"),
        ("POST", "/v1/invoices/inv_nope/cancel"),
    ):
        response = await client.request(method, path, headers=OFFICE)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not_found"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/invoices/inv_nope")).status_code == 401
    page = await client.get("/invoices/not-a-token")
    assert page.status_code == 404 and "find this invoice" in page.text


async def test_a_deposit_paid_then_shrunk_counts_toward_the_balance(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=100000)
    await post(client, f"/v1/orders/{the_order['id']}/line-items", {"lineItems": [item("Gasket", 20000)]}, 200)
    shown = await published(client, the_order["id"], deposit("2026-05-04", percentage=50), balance("2026-05-31"))
    assert (await pay_invoice(client, shown)).status_code == 200  # half of $1,200.00
    uid = (await get(client, f"/v1/orders/{the_order['id']}"))["lineItems"][1]["uid"]
    shrunk = await client.delete(f"/v1/orders/{the_order['id']}/line-items/{uid}", headers=OFFICE)
    assert shrunk.status_code == 200, shrunk.text
    now = await get(client, f"/v1/invoices/{shown['id']}")
    # The deposit now asks $500.00 and had $600.00: the extra $100.00 counts toward the balance.
    assert [r["computedAmountMoney"] for r in now["paymentRequests"]] == [usd(50000), usd(50000)]
    assert [r["amountDueMoney"] for r in now["paymentRequests"]] == [usd(0), usd(40000)]
    assert (now["paidMoney"], now["paidElsewhereMoney"], now["amountDueMoney"]) == (usd(60000), usd(0), usd(40000))
