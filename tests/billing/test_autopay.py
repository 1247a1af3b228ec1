"""Card on file, autopay and dunning on the sandbox processor (contract §10), against the app with
a clock the test moves: a card saved on its page, each cycle charged once, a decline retried 1, 3
and 7 days later with an update-card text each time, a card saved on that link charged at once,
`past_due` after the last retry and nothing more billed until the office resumes the plan."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.doctor import examine
from server.payments.sandbox import SandboxProcessor, file_beside
from tests.billing.office import a_customer, cycles, page_text, plan, run_billing, texts, trail_types
from tests.conftest import OFFICE, FakeClock
from tests.dispatch.conftest import log_in
from tests.helpers import GOOD_CARD, get, post, usd

SAVES_THEN_DECLINES = "4000000000000341"


def card_path(url: str) -> str:
    return "/cards/" + url.rsplit("/cards/", 1)[1]


async def save_card(client: AsyncTestClient[Any], customer_id: str, number: str = "4242424242424242") -> Any:
    link = await post(client, f"/v1/customers/{customer_id}/card-links", {})
    return await client.post(card_path(link["url"]), data={**GOOD_CARD, "cardNumber": number})


async def autopay_plan(client: AsyncTestClient[Any], number: str = "4242424242424242") -> tuple[dict[str, Any], Any]:
    who = await a_customer(client)
    saved = await save_card(client, who["id"], number)
    assert saved.status_code == 200, saved.text
    made = await plan(client, who["id"], billing="autopay")
    return who, made


def sandbox(db_path: Path) -> SandboxProcessor:
    return SandboxProcessor(file_beside(str(db_path)))


async def test_a_card_saved_on_its_page(client: AsyncTestClient[Any], db_path: Path) -> None:
    who = await a_customer(client)
    assert (await get(client, f"/v1/customers/{who['id']}"))["cardOnFile"] is None
    link = await post(client, f"/v1/customers/{who['id']}/card-links", {})
    assert link["id"].startswith("clink_") and link["status"] == "active"
    assert link["expiresAt"] == "2026-05-08T14:00:00.000Z"  # 7 days by default
    page = await client.get(card_path(link["url"]))
    assert page.status_code == 200 and 'name="cardNumber"' in page.text and "Nothing is charged now" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    mistyped = await client.post(card_path(link["url"]), data={**GOOD_CARD, "cardNumber": "4242424242424241"})
    assert mistyped.status_code == 400 and "not valid" in mistyped.text
    declined = await client.post(card_path(link["url"]), data={**GOOD_CARD, "cardNumber": "4000000000000002"})
    assert declined.status_code == 402 and "declined" in declined.text
    saved = await client.post(card_path(link["url"]), data={**GOOD_CARD, "cardNumber": "5555 5555 5555 4444"})
    assert saved.status_code == 200 and "Mastercard •••• 4444 is saved" in saved.text

    card = (await get(client, f"/v1/customers/{who['id']}"))["cardOnFile"]
    assert card == {"brand": "mastercard", "last4": "4444", "expMonth": 12, "expYear": 2034, "savedAt": card["savedAt"]}
    assert (await get(client, f"/v1/card-links/{link['id']}"))["status"] == "used"
    # One use: posting again saves nothing more and shows the card saved.
    again = await client.post(card_path(link["url"]), data={**GOOD_CARD, "cardNumber": "4242424242424242"})
    assert again.status_code == 200 and "•••• 4444" in again.text
    assert (await get(client, f"/v1/customers/{who['id']}"))["cardOnFile"]["last4"] == "4444"
    assert sandbox(db_path).charges() == 0  # saving charges nothing

    texted = await post(client, f"/v1/card-links/{link['id']}/send-sms", {}, 422)
    assert texted["code"] == "link_not_active"
    removed = await client.delete(f"/v1/customers/{who['id']}/card", headers=OFFICE)
    assert removed.status_code == 204
    assert (await get(client, f"/v1/customers/{who['id']}"))["cardOnFile"] is None
    assert (await client.delete(f"/v1/customers/{who['id']}/card", headers=OFFICE)).status_code == 404
    refused = await plan(client, who["id"], billing="autopay", status=422)
    assert refused["code"] == "no_card_on_file"


async def test_a_card_link_is_texted_and_expires(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    who = await a_customer(client)
    link = await post(client, f"/v1/customers/{who['id']}/card-links", {"expiresAt": "2026-05-02T14:00:00Z"})
    sent = await post(client, f"/v1/card-links/{link['id']}/send-sms", {}, 202)
    assert sent["to"] == who["phone"] and link["url"] in sent["body"]
    clock.advance(days=1, seconds=1)
    assert (await get(client, f"/v1/card-links/{link['id']}"))["status"] == "expired"
    gone = await client.get(card_path(link["url"]))
    assert gone.status_code == 410
    assert (await client.post(card_path(link["url"]), data=GOOD_CARD)).status_code == 410
    assert (await client.get("/cards/not-a-token")).status_code == 404


async def test_each_autopay_cycle_is_charged_once_with_a_receipt(client: AsyncTestClient[Any], db_path: Path) -> None:
    who, made = await autopay_plan(client)
    created = await asyncio.gather(*(run_billing(client) for _ in range(6)))
    assert sum(created) == 1
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"] == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
    assert "invoiceId" not in cycle and "paymentLinkId" not in cycle
    assert sandbox(db_path).charges() == 1
    [payment] = (await get(client, f"/v1/payments?orderId={cycle['orderId']}"))["data"]
    assert (payment["source"], payment["status"], payment["amountMoney"]) == ("autopay", "captured", usd(9900))
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    assert (await get(client, f"/v1/orders/{cycle['orderId']}"))["balanceMoney"] == usd(0)
    types = await trail_types(client, cycle["jobId"])
    assert types.index("payment.captured") < types.index("autopay.charged")
    [receipt] = [t for t in await texts(client, jobId=cycle["jobId"]) if "receipt" in t["body"]]
    assert receipt["to"] == who["phone"] and "$99.00" in receipt["body"] and "ending 4242" in receipt["body"]
    assert await run_billing(client) == 0 and sandbox(db_path).charges() == 1


def update_card_link(text: dict[str, Any]) -> str:
    found = re.search(r"(/cards/[A-Za-z0-9_-]+)", text["body"])
    assert found is not None, text["body"]
    return found.group(1)


async def test_a_decline_is_retried_a_day_later_and_a_card_saved_on_its_link_pays_at_once(
    client: AsyncTestClient[Any], db_path: Path
) -> None:
    who, made = await autopay_plan(client, SAVES_THEN_DECLINES)
    assert await run_billing(client) == 1
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"] == {"status": "retrying", "attempts": 1, "nextAttemptAt": "2026-05-02T14:00:00.000Z"}
    [payment] = (await get(client, f"/v1/payments?orderId={cycle['orderId']}"))["data"]
    assert (payment["status"], payment["declineCode"], payment["source"]) == ("declined", "card_declined", "autopay")
    assert "autopay.failed" in await trail_types(client, cycle["jobId"])
    [text] = [t for t in await texts(client, jobId=cycle["jobId"]) if "/cards/" in t["body"]]
    assert text["to"] == who["phone"] and "declined for $99.00" in text["body"]
    assert await run_billing(client) == 0  # not due again before tomorrow
    assert (await cycles(client, made["id"]))[0]["payment"]["attempts"] == 1

    saved = await client.post(update_card_link(text), data=GOOD_CARD)
    assert saved.status_code == 200 and "Visa •••• 4242 is saved" in saved.text
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"] == {"status": "paid", "attempts": 2, "nextAttemptAt": None}
    assert sandbox(db_path).charges() == 1
    payments = (await get(client, f"/v1/payments?orderId={cycle['orderId']}"))["data"]
    assert [p["status"] for p in payments] == ["declined", "captured"]
    assert "autopay.charged" in await trail_types(client, cycle["jobId"])


async def test_three_failed_retries_make_the_plan_past_due_until_resumed(
    client: AsyncTestClient[Any], clock: FakeClock, db_path: Path
) -> None:
    who, made = await autopay_plan(client, SAVES_THEN_DECLINES)
    assert await run_billing(client) == 1
    expected = ["2026-05-04T14:00:00.000Z", "2026-05-08T14:00:00.000Z", None]
    for days, next_attempt in zip((1, 2, 4), expected, strict=True):
        clock.advance(days=days)
        await run_billing(client)
        [cycle] = await cycles(client, made["id"])
        assert cycle["payment"]["nextAttemptAt"] == next_attempt
    assert cycle["payment"] == {"status": "failed", "attempts": 4, "nextAttemptAt": None}
    plan_now = await get(client, f"/v1/service-plans/{made['id']}")
    assert (plan_now["status"], plan_now["nextBillingDate"]) == ("past_due", None)
    types = await trail_types(client, cycle["jobId"])
    assert types.count("autopay.failed") == 4 and types.count("plan.past_due") == 1
    update_texts = [t for t in await texts(client, jobId=cycle["jobId"]) if "/cards/" in t["body"]]
    assert len(update_texts) == 4

    clock.advance(days=40)  # June's period starts: a past-due plan bills nothing
    assert await run_billing(client) == 0
    assert len(await cycles(client, made["id"])) == 1
    board = await get(client, "/v1/dispatch/board")
    assert board["pastDuePlans"] == [
        {"servicePlanId": made["id"], "name": made["name"], "customerId": who["id"], "customerName": who["name"]}
    ]
    await log_in(client)
    board_page = page_text((await client.get("/dispatch")).text)
    assert f"{who['name']} is past due on {made['name']}" in board_page
    assert f"{who['name']} · Past due" in board_page  # beside each of the customer's jobs
    trail_page = page_text((await client.get(f"/dispatch/jobs/{cycle['jobId']}")).text)
    assert f"Plan past due: {made['name']}" in trail_page and "Autopay declined $99.00" in trail_page

    # The office resumes it: the owed cycle is tried at once (still declined: past due again).
    resumed = await post(client, f"/v1/service-plans/{made['id']}/resume", None, 200)
    assert resumed["status"] == "past_due"
    assert (await cycles(client, made["id"]))[0]["payment"]["attempts"] == 5
    # A good card saved on the newest text's link pays it, and billing goes on.
    newest = [t for t in await texts(client, jobId=cycle["jobId"]) if "/cards/" in t["body"]]
    assert len(newest) == 5
    await client.post(update_card_link(newest[-1]), data=GOOD_CARD)
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"]["status"] == "paid" and sandbox(db_path).charges() == 1
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["status"] == "active"
    assert (await get(client, "/v1/dispatch/board"))["pastDuePlans"] == []
    assert await run_billing(client) == 1
    june = (await cycles(client, made["id"]))[1]
    assert june["periodStart"] == "2026-06-01" and june["payment"]["status"] == "paid"


async def test_flint_doctor_knows_saved_cards_autopay_attempts_and_retries(
    client: AsyncTestClient[Any], clock: FakeClock, db_path: Path
) -> None:
    await autopay_plan(client, SAVES_THEN_DECLINES)
    assert await run_billing(client) == 1
    report = examine(db_path, clock.now)
    assert report.clean, report.render()
    assert report.counts["saved cards"] == 1 and report.counts["autopay attempts"] == 1
    assert "1 card(s) on file" in report.notes
    assert any("retry 1 of 3 is due 2026-05-02T14:00:00.000Z" in note for note in report.notes), report.notes

    late = examine(db_path, clock.now + timedelta(days=1, minutes=30))  # the server never ran the retry
    assert any("its autopay charge was due 2026-05-02T14:00:00.000Z and was not made" in p.what for p in late.problems)

    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE autopay_attempts SET status = 'captured'")  # as a bug or a bad restore would
    conn.close()
    tampered = examine(db_path, clock.now)
    assert any("is captured but its charge" in p.what for p in tampered.problems), tampered.render()
