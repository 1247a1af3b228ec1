"""A job's trail page and the office's actions on it: each through the services the API uses,
posted back and redirected, refused in words, and done once however often it is sent."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.dispatch.conftest import form_key, log_in
from tests.helpers import GOOD_CARD, get, item, job, link, order, pay, post, usd
from tests.sync.conftest import assigned_job, phone_for


def text_of(page: str) -> str:
    """The page's words, tags dropped, spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def test_the_trail_reads_as_a_story(client: AsyncTestClient[Any]) -> None:
    phone = await phone_for(client)
    the_job, the_order = await assigned_job(client, phone, item("Diagnostic", 8900), item("Trip", 2500, kind="travel"))
    await phone.push(
        {"id": 1, "name": "job.setStatus", "args": {"jobId": the_job["id"], "status": "on_site"},
         "clientAt": "2026-05-01T13:58:30Z"},
        {"id": 2, "name": "job.setStatus", "args": {"jobId": the_job["id"], "status": "completed"},
         "clientAt": "2026-05-01T13:59:00Z"},
        {"id": 3, "name": "job.setStatus", "args": {"jobId": the_job["id"], "status": "en_route"},
         "clientAt": "2026-05-01T13:59:30Z"},
    )  # fmt: skip
    made = await link(client, the_order["id"], 5000)
    await post(client, f"/v1/payment-links/{made['id']}/send-sms", None, status=202)
    assert (await pay(client, made)).status_code == 200
    await log_in(client)

    page = await client.get(f"/dispatch/jobs/{the_job['id']}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "<title>AC not cooling · Flint Dispatch</title>" in page.text
    assert "Total $114.00" in words and "Paid $50.00" in words and "Balance $64.00" in words
    # Who, when by the server, and when by the device's own clock.
    assert "14:00:00 device: 13:58:30 Status: On site Sam Ortiz (phone) job.status_changed was Scheduled" in words
    assert "Device change refused: job.setStatus Sam Ortiz (phone) mutation.rejected invalid_transition: job " in words
    assert "Payment link for $50.00 Paid" in words
    assert "Text to +15555550101" in words
    assert "Card payment $50.00" in words and "Visa •••• 4242" in words
    assert words.count("Card payment $50.00") == 1
    # The built-in Twilio sandbox is in use: the trail opens the customer's phone and the pay page.
    assert 'href="/sandbox/phone/+15555550101"' in page.text
    assert f'href="{made["url"]}"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert "<script>" not in page.text and " style=" not in page.text


async def test_record_cash_from_the_page_once(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 15000))
    token = await log_in(client)
    page = (await client.get(f"/dispatch/jobs/{the_job['id']}")).text
    form = {
        "_csrf_token": token,
        "formKey": form_key(page, "cash"),
        "orderId": the_order["id"],
        "amount": "$1,00.50",
        "method": "check",
        "reference": "Check 1042",
    }
    path = f"/dispatch/jobs/{the_job['id']}/payments"
    first = await client.post(path, data=form, follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, f"/dispatch/jobs/{the_job['id']}")
    again = await client.post(path, data=form, follow_redirects=False)  # a double click
    assert again.status_code == 303

    payments = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"]
    assert [(p["amountMoney"], p["method"], p["reference"], p["source"]) for p in payments] == [
        (usd(10050), "check", "Check 1042", "office")
    ]
    trail = (await get(client, f"/v1/jobs/{the_job['id']}/trail"))["events"]
    recorded = [e for e in trail if e["type"] == "payment.recorded"]
    assert len(recorded) == 1 and recorded[0]["actor"] == {"kind": "office", "id": "office"}
    assert trail[-1]["type"] == "sms.queued"  # the customer's receipt (contract §3 v3)
    after = text_of((await client.get(f"/dispatch/jobs/{the_job['id']}")).text)
    assert "Recorded $100.50 by check." in after
    assert "Recorded $100.50" not in text_of((await client.get(f"/dispatch/jobs/{the_job['id']}")).text)


async def test_refusals_are_said_in_words(client: AsyncTestClient[Any]) -> None:
    the_job, other = await job(client), await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 8900))
    elsewhere = await order(client, other["id"], item("Repair", 5000))
    token = await log_in(client)
    path = f"/dispatch/jobs/{the_job['id']}/payments"
    base = {"_csrf_token": token, "formKey": "k" * 20, "orderId": the_order["id"], "method": "cash"}

    too_much = await client.post(path, data={**base, "amount": "200"})
    assert too_much.status_code == 422
    assert "That is more than the $89.00 still due." in text_of(too_much.text)
    assert 'value="200"' in too_much.text  # what was typed stays in the form

    not_money = await client.post(path, data={**base, "amount": "twenty"})
    assert not_money.status_code == 400
    assert "Enter an amount such as $1,500.00." in text_of(not_money.text)
    assert 'aria-invalid="true" aria-describedby="cash-amount-error"' in not_money.text

    bad_phone = await client.post(
        f"/dispatch/jobs/{the_job['id']}/text-link",
        data={"_csrf_token": token, "formKey": "t" * 20, "orderId": the_order["id"], "to": "555-0101"},
    )
    assert bad_phone.status_code == 400
    assert "Enter the number with its country code" in text_of(bad_phone.text)

    paid_up = await client.post(path, data={**base, "amount": "89", "formKey": "p" * 20}, follow_redirects=False)
    assert paid_up.status_code == 303
    nothing = await client.post(path, data={**base, "amount": "1", "formKey": "q" * 20})
    assert nothing.status_code == 422 and "Nothing is due on this job." in text_of(nothing.text)
    assert (await get(client, f"/v1/orders/{elsewhere['id']}"))["paidMoney"] == usd(0)

    missing = await client.get("/dispatch/jobs/job_nope")
    assert missing.status_code == 404 and "We can't find that job" in missing.text


async def test_text_the_balance_and_refund_part_of_a_payment(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    paid = await pay(client, await link(client, the_order["id"], 15000))
    assert paid.status_code == 200
    payment = (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"][0]
    token = await log_in(client)
    page = (await client.get(f"/dispatch/jobs/{the_job['id']}")).text

    texted = await client.post(
        f"/dispatch/jobs/{the_job['id']}/text-link",
        data={"_csrf_token": token, "formKey": form_key(page, "text"), "orderId": the_order["id"]},
        follow_redirects=False,
    )
    assert texted.status_code == 303
    sent = [m for m in (await get(client, f"/v1/sms?jobId={the_job['id']}"))["data"] if "Pay securely" in m["body"]]
    assert [m["to"] for m in sent] == ["+15555550101"]
    assert "$50.00" in sent[0]["body"]

    refund = {
        "_csrf_token": token,
        "formKey": form_key(page, "refund"),
        "paymentId": payment["id"],
        "reason": "Scratch",
    }
    too_much = await client.post(f"/dispatch/jobs/{the_job['id']}/refunds", data={**refund, "amount": "151"})
    assert too_much.status_code == 422
    assert "At most $150.00 of that payment can still be refunded." in text_of(too_much.text)
    for _ in range(2):  # sent twice, given back once
        done = await client.post(
            f"/dispatch/jobs/{the_job['id']}/refunds", data={**refund, "amount": "40"}, follow_redirects=False
        )
        assert done.status_code == 303
    refunds = (await get(client, f"/v1/refunds?paymentId={payment['id']}"))["data"]
    assert [(r["amountMoney"], r["reason"], r["status"]) for r in refunds] == [(usd(4000), "Scratch", "completed")]
    words = text_of((await client.get(f"/dispatch/jobs/{the_job['id']}")).text)
    assert "Refunded $40.00." in words
    assert "Refund $40.00 Office refund.created Reason: Scratch" in words
    assert "Refunded $40.00" in words and "Balance $90.00" in words


async def test_an_event_type_the_page_has_not_met_still_shows(client: AsyncTestClient[Any], db_path: Path) -> None:
    the_job = await job(client)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO trail_events (job_id, at, type, actor_kind, actor_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            (the_job["id"], "2026-05-01T14:00:00.000Z", "warranty.claimed", "system", "warranty",
             '{"claimMoney": {"amount": 4500, "currency": "USD"}, "part": "Capacitor"}'),
        )  # fmt: skip
    conn.close()
    await log_in(client)
    words = text_of((await client.get(f"/dispatch/jobs/{the_job['id']}")).text)
    assert "warranty.claimed Flint (warranty) warranty.claimed Claim: $45.00 Part: Capacitor" in words
    board = await client.get("/v1/dispatch/board", headers=OFFICE)
    assert board.json()["jobs"][0]["lastEventAt"] == "2026-05-01T14:00:00.000Z"


async def test_text_a_card_link_from_the_trail_and_see_autopay_on_it(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    token = await log_in(client)
    page = (await client.get(f"/dispatch/jobs/{the_job['id']}")).text
    assert "No card on file." in text_of(page)
    texted = await client.post(
        f"/dispatch/jobs/{the_job['id']}/card-link",
        data={"_csrf_token": token, "formKey": form_key(page, "card")},
        follow_redirects=False,
    )
    assert texted.status_code == 303
    [sent] = [m for m in (await get(client, f"/v1/sms?jobId={the_job['id']}"))["data"] if "/cards/" in m["body"]]
    assert sent["to"] == "+15555550101" and "save a card" in sent["body"]
    card_page = "/cards/" + sent["body"].rsplit("/cards/", 1)[1]
    saved = await client.post(card_page, data={**GOOD_CARD, "cardNumber": "4000000000000341"})
    assert saved.status_code == 200
    words = text_of((await client.get(f"/dispatch/jobs/{the_job['id']}")).text)
    assert "Texted a link to save a card to +15555550101." in words
    assert "On file: Visa •••• 0341, expires 12/2034." in words

    made = await post(
        client,
        "/v1/service-plans",
        {
            "customerId": the_job["customerId"],
            "name": "Monthly filter service",
            "lineItems": [item("Filter service", 4900)],
            "interval": "month",
            "startDate": "2026-05-01",
            "billing": "autopay",
        },
    )
    await post(client, "/v1/billing/run", {}, 200)
    [cycle] = (await get(client, f"/v1/service-plans/{made['id']}/cycles"))["data"]
    words = text_of((await client.get(f"/dispatch/jobs/{cycle['jobId']}")).text)
    assert "Service plan billed: Monthly filter service" in words and "By autopay, to the card on file" in words
    assert "Autopay declined $49.00: Monthly filter service" in words
    assert "Reason: card declined" in words and "the customer was texted a link to update the card" in words
