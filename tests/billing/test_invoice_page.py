"""The hosted invoice page (contract §4): it shows the whole invoice, pays the next request due
through the same capture path as a payment link, texts a receipt per capture, and never offers a
card form when nothing is due."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.trail import store as trail_store
from tests.billing.office import (
    AP_PHONE,
    balance,
    deposit,
    page_path,
    page_text,
    pay_invoice,
    published,
    shown_form,
    texts,
    trail_types,
    work_order,
)
from tests.conftest import OFFICE
from tests.helpers import GOOD_CARD, cash, get, item, post, usd

DECLINING = "4000000000000002"


def receipts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["body"] for m in messages if "receipt for" in m["body"]]


async def test_the_page_shows_the_whole_invoice(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=32000)
    await post(
        client,
        f"/v1/orders/{the_order['id']}/line-items",
        {
            "lineItems": [
                item("Replacement gasket", 1850, quantity=2, kind="material"),
                item("Discount", 3000, kind="discount"),
            ]
        },
        200,
    )
    shown = await published(
        client, the_order["id"], deposit("2026-05-08", percentage=25), balance("2026-05-31"), poNumber="PO-7781"
    )
    page = await client.get(page_path(shown))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    text = page_text(page.text)
    for expected in (
        "Flint Field Services",
        "Invoice #1",
        "Bill to Oakridge Property Management",
        AP_PHONE,
        "PO number PO-7781",
        "Issued May 1, 2026",
        "Boiler service (commercial)",
        "Replacement gasket 2 × $18.50 2 $18.50 $37.00",  # the first for phones, the rest in columns
        "Discount 1 −$30.00 −$30.00",
        "Total $327.00",
        "Deposit (25%) May 8, 2026 $81.75 $0.00 $81.75",
        "Balance May 31, 2026 $245.25 $0.00 $245.25",
        "Amount due $327.00",
        "Pay the deposit (25%): $81.75",
        "sandbox",
    ):
        assert expected in text, expected
    assert shown_form(page.text)["expectedAmount"] == "8175"
    assert "<script" not in page.text and "<style" not in page.text and "style=" not in page.text
    assert '<link rel="stylesheet" href="/static/invoice.css?v=' in page.text
    css = await client.get(page.text.split('href="', 2)[1].split('"')[0])
    assert css.status_code == 200 and "@media print" in css.text


async def test_deposit_then_balance_through_the_page(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=150000)
    shown = await published(client, the_order["id"], deposit("2026-05-04", percentage=20), balance("2026-05-31"))
    invoice_path = f"/v1/invoices/{shown['id']}"
    assert shown["state"] == "unpaid"

    paid = await pay_invoice(client, shown)
    assert paid.status_code == 200
    text = page_text(paid.text)
    assert "Paid $300.00" in text and "Visa •••• 4242" in text
    assert "Pay the balance: $1,200.00" in text  # the form now offers the next request
    now = await get(client, invoice_path)
    assert now["state"] == "partially_paid"
    assert [r["paidMoney"] for r in now["paymentRequests"]] == [usd(30000), usd(0)]
    assert [r["amountDueMoney"] for r in now["paymentRequests"]] == [usd(0), usd(120000)]
    assert (now["paidMoney"], now["amountDueMoney"], now["nextDueDate"]) == (usd(30000), usd(120000), "2026-05-31")
    assert len(receipts(await texts(client, orderId=the_order["id"]))) == 1

    paid = await pay_invoice(client, shown)
    assert paid.status_code == 200
    text = page_text(paid.text)
    assert "Paid $1,200.00" in text and "Paid in full" in text
    assert 'name="cardNumber"' not in paid.text
    now = await get(client, invoice_path)
    assert (now["state"], now["amountDueMoney"], now["paidMoney"]) == ("paid", usd(0), usd(150000))

    messages = await texts(client, orderId=the_order["id"])
    sent = receipts(messages)
    assert len(sent) == 2
    assert "$300.00" in sent[0] and "$1,200.00" in sent[1]
    assert all(shown["publicUrl"] in body and "4242" in body for body in sent)
    assert {m["to"] for m in messages} == {AP_PHONE}

    payments = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert [(p["amountMoney"]["amount"], p["source"], p["status"]) for p in payments] == [
        (30000, "invoice", "captured"),
        (120000, "invoice", "captured"),
    ]
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["balanceMoney"] == usd(0)
    types = await trail_types(client, the_order["jobId"])
    assert types.count("payment.captured") == 2 and types.count("invoice.paid") == 1
    assert types.index("invoice.paid") > len(types) - 4

    # Paid: the page shows the invoice and what was paid, with no form; posting charges nothing.
    page = await client.get(page_path(shown))
    assert page.status_code == 200 and 'name="cardNumber"' not in page.text
    assert "Paid in full" in page_text(page.text) and "Payments received" in page.text
    again = await client.post(page_path(shown), data=GOOD_CARD)
    assert again.status_code == 200 and 'name="cardNumber"' not in again.text
    assert len((await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]) == 2
    assert len(receipts(await texts(client, orderId=the_order["id"]))) == 2


async def test_a_second_post_of_the_same_form_pays_nothing_more(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=100000)
    shown = await published(client, the_order["id"], deposit("2026-05-04", amount=25000), balance("2026-05-31"))
    page = await client.get(page_path(shown))
    form = {**GOOD_CARD, **shown_form(page.text)}
    first = await client.post(page_path(shown), data=form)
    second = await client.post(page_path(shown), data=form)  # a double tap: still the deposit's form
    assert first.status_code == second.status_code == 200
    assert "made already" in page_text(second.text)
    payments = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert [p["amountMoney"]["amount"] for p in payments] == [25000]


async def test_what_is_due_changed_since_the_page_was_shown(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=100000)
    shown = await published(client, the_order["id"])
    page = await client.get(page_path(shown))
    await post(client, f"/v1/orders/{the_order['id']}/line-items", {"lineItems": [item("Gasket", 5000)]}, 200)
    stale = await client.post(page_path(shown), data={**GOOD_CARD, **shown_form(page.text)})
    assert stale.status_code == 409
    assert "changed" in page_text(stale.text) and "Pay $1,050.00" in page_text(stale.text)
    assert (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"] == []


async def test_a_decline_keeps_the_safe_fields_and_charges_nothing(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=10000)
    shown = await published(client, the_order["id"])
    declined = await pay_invoice(client, shown, cardNumber=DECLINING)
    assert declined.status_code == 402
    assert "declined" in page_text(declined.text)
    assert 'value="94110"' in declined.text and 'value="2034"' in declined.text and DECLINING not in declined.text
    bad = await pay_invoice(client, shown, cardNumber="4242 4242 4242 4241")
    assert bad.status_code == 400 and "That card number is not valid" in bad.text
    assert (await get(client, f"/v1/invoices/{shown['id']}"))["state"] == "unpaid"
    assert receipts(await texts(client, orderId=the_order["id"])) == []


async def test_no_form_when_nothing_is_due(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=10000)
    shown = await published(client, the_order["id"])
    await cash(client, the_order["id"], 10000)
    page = await client.get(page_path(shown))
    assert page.status_code == 200
    assert 'name="cardNumber"' not in page.text and "<form" not in page.text
    assert "Paid another way $100.00" in page_text(page.text)
    posted = await client.post(page_path(shown), data=GOOD_CARD)
    assert posted.status_code == 200 and "<form" not in posted.text
    assert len((await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]) == 1


async def test_a_request_owed_again_after_a_refund_is_collected_again(client: AsyncTestClient[Any]) -> None:
    the_order = await work_order(client, amount=10000)
    shown = await published(client, the_order["id"])
    await pay_invoice(client, shown)
    [payment] = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    await post(client, "/v1/refunds", {"paymentId": payment["id"], "amountMoney": usd(4000), "reason": "goodwill"})
    now = await get(client, f"/v1/invoices/{shown['id']}")
    assert (now["state"], now["amountDueMoney"]) == ("partially_paid", usd(4000))
    again = await pay_invoice(client, shown)
    assert again.status_code == 200 and "Paid $40.00" in page_text(again.text)
    assert (await get(client, f"/v1/invoices/{shown['id']}"))["state"] == "paid"


@pytest.fixture
def failing_capture(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The capture's trail event fails once, as a crash would: the card was charged, nothing recorded."""
    armed = [True]
    append = trail_store.append

    def maybe_fail(tx: Any, **kwargs: Any) -> int:
        if kwargs["type"] == "payment.captured" and armed[0]:
            armed[0] = False
            raise OSError("disk full")
        return append(tx, **kwargs)

    monkeypatch.setattr(trail_store, "append", maybe_fail)
    return armed


async def test_a_payment_in_doubt_is_being_confirmed(client: AsyncTestClient[Any], failing_capture: list[bool]) -> None:
    the_order = await work_order(client, amount=10000)
    shown = await published(client, the_order["id"])
    assert (await pay_invoice(client, shown)).status_code == 500
    page = await client.get(page_path(shown))
    assert page.status_code == 202 and "being confirmed" in page.text and "$100.00" in page.text
    again = await client.post(page_path(shown), data=GOOD_CARD)
    assert again.status_code == 202 and "being confirmed" in again.text
    assert (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"] == []
    cancel = await client.post(f"/v1/invoices/{shown['id']}/cancel", headers=OFFICE)
    assert cancel.json()["code"] == "payment_in_progress"


async def test_the_eleventh_bad_attempt_on_an_invoice_waits(client: AsyncTestClient[Any]) -> None:
    """Card testing on an invoice page is limited like on a pay link (contract §4)."""
    first = await published(client, (await work_order(client, amount=50000))["id"])
    other = await published(client, (await work_order(client, amount=50000))["id"])
    statuses = []
    for n in range(10):
        statuses.append(
            (await pay_invoice(client, first, cardNumber=DECLINING if n % 2 else "4242424242424241")).status_code
        )
    assert statuses == [400, 402] * 5
    page = await client.get(page_path(first))
    eleventh = await client.post(page_path(first), data={**GOOD_CARD, **shown_form(page.text)})
    assert eleventh.status_code == 429 and 1 <= int(eleventh.headers["retry-after"]) <= 600
    assert (await pay_invoice(client, other)).status_code == 200
