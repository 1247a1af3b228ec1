from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.helpers import GOOD_CARD, cash, get, item, job, link, order, pay, pay_path, post, usd


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_page_shows_who_asks_for_what_and_how_much(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(
        client, the_job["id"], item("Diagnostic visit", 8900), item("Filter", 1250, quantity=2, kind="addon")
    )
    made = await link(client, the_order["id"], 7500, name="Dispatch deposit")
    response = await client.get(pay_path(made))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    text = page_text(response.text)
    assert "Flint Field Services" in text
    assert "Dispatch deposit" in text
    assert "AC not cooling" in text
    assert "Diagnostic visit" in text and "2 × $12.50" in text and "$25.00" in text
    assert "Amount due now $75.00" in text
    for field in ("cardNumber", "expMonth", "expYear", "cvc", "postalCode"):
        assert f'name="{field}"' in response.text
    assert "<script" not in response.text
    assert 'name="viewport"' in response.text


async def test_names_are_escaped(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("<script>alert(1)</script>", 500))
    response = await client.get(pay_path(await link(client, the_order["id"])))
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


async def test_paying_captures_once_and_shows_the_receipt(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    made = await link(client, the_order["id"], 7500)

    paid = await pay(client, made)
    assert paid.status_code == 200
    text = page_text(paid.text)
    assert "Paid $75.00" in text and "Visa •••• 4242" in text

    again = await pay(client, made)
    assert again.status_code == 200 and "Paid $75.00" in page_text(again.text)
    shown = await client.get(pay_path(made))
    assert shown.status_code == 200 and "Paid $75.00" in page_text(shown.text)

    payments = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert len(payments) == 1
    [payment] = payments
    assert payment["status"] == "captured"
    assert payment["method"] == "card"
    assert payment["source"] == "pay_link"
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    assert payment["paymentLinkId"] == made["id"]
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "paid"
    after = await get(client, f"/v1/orders/{the_order['id']}")
    assert (after["paidMoney"], after["balanceMoney"]) == (usd(7500), usd(12500))
    trail = await get(client, f"/v1/jobs/{the_job['id']}/trail")
    captured = [e for e in trail["events"] if e["type"] == "payment.captured"]
    assert len(captured) == 1
    assert captured[0]["actor"] == {"kind": "customer", "id": the_job["customerId"]}
    assert captured[0]["data"]["amountMoney"] == usd(7500)


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("4000000000000002", "card_declined", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "insufficient funds"),
    ],
)
async def test_a_decline_changes_no_money(client: AsyncTestClient[Any], number: str, code: str, message: str) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    made = await link(client, the_order["id"])
    before = await get(client, f"/v1/orders/{the_order['id']}")

    declined = await pay(client, made, cardNumber=number)
    assert declined.status_code == 402
    assert message in declined.text
    assert 'name="cardNumber"' in declined.text  # the form is offered again

    after = await get(client, f"/v1/orders/{the_order['id']}")
    assert {k: after[k] for k in ("totalMoney", "paidMoney", "refundedMoney", "balanceMoney")} == {
        k: before[k] for k in ("totalMoney", "paidMoney", "refundedMoney", "balanceMoney")
    }
    assert (await get(client, f"/v1/jobs/{the_job['id']}"))["payment"]["paidMoney"] == usd(0)
    [payment] = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert (payment["status"], payment["declineCode"]) == ("declined", code)
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "active"
    trail = await get(client, f"/v1/jobs/{the_job['id']}/trail")
    assert [e["type"] for e in trail["events"]][-1] == "payment.declined"

    # The customer tries another card and it goes through.
    assert (await pay(client, made)).status_code == 200
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["balanceMoney"] == usd(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cardNumber", "4242424242424241"),
        ("cardNumber", ""),
        ("cardNumber", "abcd"),
        ("expMonth", "13"),
        ("expYear", "2019"),
        ("cvc", "1"),
        ("postalCode", ""),
    ],
)
async def test_bad_card_input_is_a_400_page_and_stores_nothing(
    client: AsyncTestClient[Any], field: str, value: str
) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"])
    response = await pay(client, made, **{field: value})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    assert (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"] == []
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "active"


async def test_a_post_that_is_not_a_form_is_a_400_page(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"])
    response = await client.post(
        pay_path(made), content=b'{"cardNumber": 1}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


async def test_unknown_links_are_404_pages(client: AsyncTestClient[Any]) -> None:
    for path, status in (("/pay/nope", 404), ("/pay/" + "x" * 64, 404), ("/pay/" + "x" * 500, 400)):
        response = await client.get(path)
        assert response.status_code == status  # no token is longer than 64 characters: 400 (contract v3)
        assert response.headers["content-type"].startswith("text/html")
        assert (await client.post(path, data={"cardNumber": "4242424242424242"})).status_code == status


async def test_a_fixed_link_whose_amount_is_no_longer_due_is_closed(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"], 5000)
    await cash(client, the_order["id"], 1000)
    page = await client.get(pay_path(made))
    assert page.status_code == 200 and 'name="cardNumber"' not in page.text
    assert "Nothing is due through this request" in page_text(page.text)
    posted = await pay(client, made)
    assert posted.status_code == 409 and 'name="cardNumber"' not in posted.text
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(1000)
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "closed"


async def test_the_card_number_never_reaches_the_database(client: AsyncTestClient[Any], db_path: Path) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    number, cvc = "4000056655665556", "987"
    await pay(client, await link(client, the_order["id"], 5000), cardNumber="4000 0566 5566 5556", cvc=cvc)
    await pay(client, await link(client, the_order["id"], 5000), cardNumber="4000000000000002", cvc=cvc)
    # A card saved for later on a card link's page (contract §10): kept by the processor's reference.
    who = await post(client, "/v1/customers", {"name": "Ana", "phone": "+15555550199", "kind": "residential"})
    card_link = await post(client, f"/v1/customers/{who['id']}/card-links", {})
    saved = await client.post(
        "/cards/" + card_link["url"].rsplit("/cards/", 1)[1],
        data={**GOOD_CARD, "cardNumber": "5200 8282 8282 8210", "cvc": cvc},
    )
    assert saved.status_code == 200
    files = sorted(db_path.parent.glob(db_path.name + "*"))
    assert any(f.name.endswith("-wal") for f in files)
    for path in files:  # the WAL as written, before any checkpoint
        data = path.read_bytes()
        assert number.encode() not in data, path
        assert b"4000000000000002" not in data, path
        assert b"4000 0566 5566 5556" not in data, path
        assert b"5200828282828210" not in data and b"5200 8282 8282 8210" not in data, path
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert number.encode() not in db_path.read_bytes()
    last4 = sorted(p["card"]["last4"] for p in (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"])
    assert last4 == ["0002", "5556"]
