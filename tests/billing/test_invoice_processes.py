"""Invoices against a real `flint serve`: numbers under concurrent creates, the page under
concurrent posts, and the texts an invoice sends, through the Twilio sandbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.billing.office import shown_form
from tests.helpers import GOOD_CARD, item
from tests.process import ServerProcess
from tests.sms.conftest import Texting, wait_for

KEY = "invoices-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
AP = "+15555550150"


async def at_once(url: str, count: int, send: Any) -> list[httpx.Response]:
    """`count` requests on their own connections, released together."""
    clients = [httpx.AsyncClient(base_url=url, headers=OFFICE, timeout=60) for _ in range(count)]
    try:
        go = asyncio.Event()

        async def one(index: int, client: httpx.AsyncClient) -> httpx.Response:
            await go.wait()
            response: httpx.Response = await send(index, client)
            return response

        tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(clients)]
        await asyncio.sleep(0.05)
        go.set()
        return await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_numbers_count_up_with_no_gap_or_repeat_under_concurrent_creates(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OFFICE, timeout=30) as api:
            orders = [
                (await api.post("/v1/orders", json={"lineItems": [item("Service", 10000 + i)]})).json()["id"]
                for i in range(16)
            ]

            def body(index: int) -> dict[str, Any]:
                if index % 4 == 3:  # a refused create, between the others: it takes no number
                    too_much = {"type": "deposit", "amountMoney": {"amount": 99999, "currency": "USD"}}
                    return {
                        "orderId": orders[index],
                        "recipient": {"name": "AP"},
                        "paymentRequests": [
                            {**too_much, "dueDate": "2999-01-01"},
                            {"type": "balance", "dueDate": "2999-01-02"},
                        ],
                    }
                return {"orderId": orders[index], "recipient": {"name": "AP"}}

            answers = await at_once(server.url, 16, lambda i, c: c.post("/v1/invoices", json=body(i)))
            made = [a.json() for a in answers if a.status_code == 201]
            refused = [a.json()["code"] for a in answers if a.status_code != 201]
            assert refused == ["deposit_exceeds_total"] * 4
            assert sorted(i["number"] for i in made) == list(range(1, 13))
            later = await api.post("/v1/invoices", json={"orderId": orders[3], "recipient": {"name": "AP"}})
            assert later.json()["number"] == 13


async def test_the_page_is_captured_once_per_request_under_concurrent_posts(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OFFICE, timeout=30) as api:
            order = (await api.post("/v1/orders", json={"lineItems": [item("Service", 100000)]})).json()
            made = await api.post(
                "/v1/invoices",
                json={
                    "orderId": order["id"],
                    "recipient": {"name": "AP", "phone": AP},
                    "paymentRequests": [
                        {"type": "deposit", "percentage": 30, "dueDate": "2999-01-01"},
                        {"type": "balance", "dueDate": "2999-02-01"},
                    ],
                },
            )
            shown = (await api.post(f"/v1/invoices/{made.json()['id']}/publish")).json()
            path = "/invoices/" + shown["publicUrl"].rsplit("/", 1)[1]

            for amount in (30000, 70000):
                form = {**GOOD_CARD, **shown_form((await api.get(path)).text)}
                assert form["expectedAmount"] == str(amount)
                answers = await at_once(server.url, 12, lambda i, c, form=form: c.post(path, data=form))
                assert [a.status_code for a in answers] == [200] * 12
                assert sum(f"Paid ${amount // 100:,}.00" in a.text for a in answers) == 1
                assert sum("made already" in a.text for a in answers) == 11

            payments = (await api.get("/v1/payments", params={"orderId": order["id"]})).json()["data"]
            assert [(p["amountMoney"]["amount"], p["status"]) for p in payments] == [
                (30000, "captured"),
                (70000, "captured"),
            ]
            after = (await api.get(f"/v1/invoices/{shown['id']}")).json()
            assert (after["state"], after["amountDueMoney"]["amount"]) == ("paid", 0)
            page = await api.get(path)
            assert page.status_code == 200 and "<form" not in page.text


@pytest.fixture
def texting(tmp_path: Path) -> Iterator[Texting]:
    pair = Texting(tmp_path).start()
    try:
        yield pair
    finally:
        pair.close()


def test_the_invoice_and_a_receipt_per_payment_reach_the_phone(texting: Texting) -> None:
    api = texting.api
    customer = api.post("/v1/customers", json={"name": "Oakridge", "phone": "+15555550199", "kind": "commercial"})
    job = api.post("/v1/jobs", json={"customerId": customer.json()["id"], "title": "Boiler", "address": "90 Oak"})
    order = api.post(
        "/v1/orders", json={"lineItems": [item("Boiler service", 150000)], "metadata": {"jobId": job.json()["id"]}}
    )
    made = api.post(
        "/v1/invoices",
        json={
            "orderId": order.json()["id"],
            "recipient": {"name": "Oakridge AP", "phone": AP},
            "poNumber": "PO-7781",
            "paymentRequests": [
                {"type": "deposit", "amountMoney": {"amount": 50000, "currency": "USD"}, "dueDate": "2999-01-01"},
                {"type": "balance", "dueDate": "2999-02-01"},
            ],
        },
    )
    shown = api.post(f"/v1/invoices/{made.json()['id']}/publish").json()
    [sent] = wait_for(lambda: texting.texts_to(AP), what="the invoice text")
    assert "invoice #1 for $1,500.00, $500.00 due Jan 1, 2999" in sent["body"]
    url = re.search(r"https?://\S+", sent["body"])
    assert url is not None and url.group(0) == shown["publicUrl"]

    for amount in ("$500.00", "$1,000.00"):
        page = httpx.get(shown["publicUrl"])
        paid = httpx.post(shown["publicUrl"], data={**GOOD_CARD, **shown_form(page.text)})
        assert paid.status_code == 200 and f"Paid {amount}" in paid.text
        wait_for(
            lambda amount=amount: [t for t in texting.texts_to(AP) if f"receipt for {amount}" in t["body"]],
            what=f"the receipt for {amount}",
        )
    receipts = [t["body"] for t in texting.texts_to(AP) if "receipt for" in t["body"]]
    assert len(receipts) == 2 and all(shown["publicUrl"] in r and "4242" in r for r in receipts)
    assert api.get(f"/v1/invoices/{shown['id']}").json()["state"] == "paid"
    events = texting.trail(job.json()["id"])
    assert events.count("invoice.paid") == 1 and events.count("payment.captured") == 2
