"""Service plans and the billing run (contract §3), against the app with a clock the test moves:
what a cycle is, once per period, catch-up after a gap, month ends, pauses, cancelling, codes."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.billing.office import a_customer, cycles, pay_invoice, plan, remind, run_billing, texts, trail_types
from tests.conftest import OFFICE, FakeClock
from tests.dispatch.conftest import log_in
from tests.helpers import get, item, post, usd


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T14:00:00+00:00").astimezone(UTC)


async def test_a_plan_and_its_first_cycle(client: AsyncTestClient[Any]) -> None:
    who = await a_customer(client)
    response = await client.post(
        "/v1/service-plans",
        json={
            "customerId": who["id"],
            "name": "Monthly rooftop maintenance",
            "lineItems": [item("Rooftop unit service", 9900), item("Filter", 1500, quantity=2, kind="material")],
            "interval": "month",
            "startDate": "2026-05-01",
            "billing": "invoice",
            "dueInDays": 15,
            "address": "90 Oakridge Court",
        },
        headers=OFFICE,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert response.headers["location"] == f"/v1/service-plans/{made['id']}"
    assert made["id"].startswith("plan_")
    assert (made["status"], made["nextBillingDate"], made["cyclesBilled"]) == ("active", "2026-05-01", 0)
    assert made["totalMoney"] == usd(12900) and made["lineItems"][1]["totalMoney"] == usd(3000)
    assert await get(client, f"/v1/service-plans/{made['id']}") == made

    assert await run_billing(client) == 1
    [cycle] = await cycles(client, made["id"])
    assert (cycle["periodStart"], cycle["periodEnd"]) == ("2026-05-01", "2026-05-31")
    assert cycle["invoiceId"].startswith("inv_") and "paymentLinkId" not in cycle

    the_order = await get(client, f"/v1/orders/{cycle['orderId']}")
    assert the_order["metadata"] == {
        "jobId": cycle["jobId"],
        "servicePlanId": made["id"],
        "periodStart": "2026-05-01",
        "paymentStage": "recurring",
    }
    assert [line["name"] for line in the_order["lineItems"]] == ["Rooftop unit service", "Filter"]
    assert the_order["totalMoney"] == usd(12900) and the_order["customerId"] == who["id"]

    visit = await get(client, f"/v1/jobs/{cycle['jobId']}")
    assert visit["title"] == "Monthly rooftop maintenance · May 1\u201331, 2026"
    assert (visit["technicianId"], visit["status"]) == (None, "scheduled")
    assert visit["scheduledAt"] == "2026-05-01T00:00:00.000Z" and visit["address"] == "90 Oakridge Court"
    assert visit["customerId"] == who["id"] and visit["payment"]["balanceMoney"] == usd(12900)

    bill = await get(client, f"/v1/invoices/{cycle['invoiceId']}")
    assert bill["state"] == "unpaid" and bill["paymentRequests"][0]["dueDate"] == "2026-05-16"
    assert bill["recipient"]["phone"] == who["phone"]
    [text] = await texts(client, orderId=cycle["orderId"])
    assert text["to"] == who["phone"] and bill["publicUrl"] in text["body"]

    types = await trail_types(client, cycle["jobId"])
    assert types[:2] == ["job.created", "order.created"] and "plan.cycle_billed" in types
    assert "invoice.published" in types
    board = await get(client, "/v1/dispatch/board")
    [line] = [j for j in board["jobs"] if j["id"] == cycle["jobId"]]
    assert (line["totalMoney"], line["balanceMoney"]) == (usd(12900), usd(12900))
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["nextBillingDate"] == "2026-06-01"


async def test_text_to_pay_texts_the_balance_link(client: AsyncTestClient[Any]) -> None:
    who = await a_customer(client)
    made = await plan(client, who["id"], billing="text_to_pay", interval="week")
    assert await run_billing(client) == 1
    [cycle] = await cycles(client, made["id"])
    assert cycle["periodEnd"] == "2026-05-07" and "invoiceId" not in cycle
    link = await get(client, f"/v1/payment-links/{cycle['paymentLinkId']}")
    assert (link["orderId"], link["fixed"], link["status"]) == (cycle["orderId"], False, "active")
    assert link["amountMoney"] == usd(9900)
    [text] = await texts(client, orderId=cycle["orderId"])
    assert text["paymentLinkId"] == link["id"] and link["url"] in text["body"] and "$99.00" in text["body"]


async def test_each_period_once_however_often_billing_runs(client: AsyncTestClient[Any]) -> None:
    made = await plan(client, (await a_customer(client))["id"])
    assert [await run_billing(client) for _ in range(3)] == [1, 0, 0]
    assert len(await cycles(client, made["id"])) == 1


async def test_a_gap_is_caught_up_in_order(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    clock.now = at("2026-01-15")
    made = await plan(client, (await a_customer(client))["id"], startDate="2026-01-15")
    clock.now = at("2026-05-20")  # nothing ran since the plan began
    assert await run_billing(client) == 5
    assert [c["periodStart"] for c in await cycles(client, made["id"])] == [
        "2026-01-15",
        "2026-02-15",
        "2026-03-15",
        "2026-04-15",
        "2026-05-15",
    ]
    clock.now = at("2026-08-01")
    assert await run_billing(client) == 2
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["cyclesBilled"] == 7


async def test_the_31st_is_billed_on_the_last_day_of_shorter_months(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    made = await plan(client, (await a_customer(client))["id"], startDate="2027-01-31")
    billed: list[tuple[str, int]] = []
    for day in ("2027-01-30", "2027-01-31", "2027-02-27", "2027-02-28", "2027-03-30", "2027-03-31", "2027-04-30"):
        clock.now = at(day)
        billed.append((day, await run_billing(client)))
    assert [day for day, count in billed if count] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert all(count <= 1 for _, count in billed)
    ends = [(c["periodStart"], c["periodEnd"]) for c in await cycles(client, made["id"])]
    assert ends[:2] == [("2027-01-31", "2027-02-27"), ("2027-02-28", "2027-03-30")]


async def test_in_a_leap_year_the_31st_is_billed_on_february_29(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    made = await plan(client, (await a_customer(client))["id"], startDate="2028-01-31")
    clock.now = at("2028-02-28")
    assert await run_billing(client) == 1  # January's
    clock.now = at("2028-02-29")
    assert await run_billing(client) == 1
    clock.now = at("2028-03-31")
    assert await run_billing(client) == 1
    starts = [c["periodStart"] for c in await cycles(client, made["id"])]
    assert starts == ["2028-01-31", "2028-02-29", "2028-03-31"]


async def test_yearly_from_february_29(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    made = await plan(client, (await a_customer(client))["id"], startDate="2028-02-29", interval="year")
    billed = []
    for day in ("2028-02-29", "2029-02-27", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-28", "2032-02-29"):
        clock.now = at(day)
        billed.append((day, await run_billing(client)))
    assert [day for day, count in billed if count] == [
        "2028-02-29",
        "2029-02-28",
        "2030-02-28",
        "2031-02-28",
        "2032-02-29",
    ]
    assert (await cycles(client, made["id"]))[0]["periodEnd"] == "2029-02-27"


async def test_a_paused_plan_bills_nothing_and_skips_what_started_while_paused(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    made = await plan(client, (await a_customer(client))["id"])
    assert await run_billing(client) == 1  # May
    clock.now = at("2026-05-10")
    paused = await post(client, f"/v1/service-plans/{made['id']}/pause", None, 200)
    assert (paused["status"], paused["nextBillingDate"]) == ("paused", None)
    assert (await post(client, f"/v1/service-plans/{made['id']}/pause", None, 200))["status"] == "paused"
    clock.now = at("2026-08-15")
    assert await run_billing(client) == 0
    resumed = await post(client, f"/v1/service-plans/{made['id']}/resume", None, 200)
    # June, July and August started while the plan was paused: skipped, not billed late.
    assert (resumed["status"], resumed["nextBillingDate"]) == ("active", "2026-09-01")
    assert await run_billing(client) == 0
    clock.now = at("2026-09-01")
    assert await run_billing(client) == 1
    assert [c["periodStart"] for c in await cycles(client, made["id"])] == ["2026-05-01", "2026-09-01"]


async def test_a_period_that_began_before_the_pause_is_billed_on_resume(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    made = await plan(client, (await a_customer(client))["id"])  # May 1, never billed: the server was down
    clock.now = at("2026-05-03")
    await post(client, f"/v1/service-plans/{made['id']}/pause", None, 200)
    assert await run_billing(client) == 0
    clock.now = at("2026-05-20")
    await post(client, f"/v1/service-plans/{made['id']}/resume", None, 200)
    assert await run_billing(client) == 1
    assert [c["periodStart"] for c in await cycles(client, made["id"])] == ["2026-05-01"]


async def test_a_cancelled_plan_bills_nothing_more(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    made = await plan(client, (await a_customer(client))["id"])
    assert await run_billing(client) == 1
    cancelled = await post(client, f"/v1/service-plans/{made['id']}/cancel", None, 200)
    assert (cancelled["status"], cancelled["nextBillingDate"]) == ("cancelled", None)
    assert cancelled["cancelledAt"] == "2026-05-01T14:00:00.000Z"
    assert (await post(client, f"/v1/service-plans/{made['id']}/cancel", None, 200))["status"] == "cancelled"
    for action in ("pause", "resume"):
        refused = await client.post(f"/v1/service-plans/{made['id']}/{action}", headers=OFFICE)
        assert (refused.status_code, refused.json()["code"]) == (422, "plan_cancelled")
    clock.now = at("2026-09-01")
    assert await run_billing(client) == 0
    assert len(await cycles(client, made["id"])) == 1


async def test_as_of_bills_up_to_that_day_and_not_too_far_ahead(client: AsyncTestClient[Any]) -> None:
    made = await plan(client, (await a_customer(client))["id"], startDate="2026-03-01", backfill=True)
    assert await run_billing(client, "2026-03-31") == 1
    assert await run_billing(client, "2026-07-01") == 4  # April to July, July billed ahead
    far = await client.post("/v1/billing/run", json={"asOf": "2027-06-01"}, headers=OFFICE)
    assert (far.status_code, far.json()["code"]) == (422, "as_of_too_far")
    bad = await client.post("/v1/billing/run", json={"asOf": "2026-13-01"}, headers=OFFICE)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "asOf")
    assert len(await cycles(client, made["id"])) == 5


async def test_a_billing_run_replays_by_idempotency_key(client: AsyncTestClient[Any]) -> None:
    await plan(client, (await a_customer(client))["id"])
    headers = {**OFFICE, "Idempotency-Key": "run-1"}
    first = await client.post("/v1/billing/run", json={}, headers=headers)
    again = await client.post("/v1/billing/run", json={}, headers=headers)
    assert first.json() == again.json() == {"cyclesCreated": 1}
    assert again.headers["idempotent-replayed"] == "true"


async def test_plans_list_and_cycles_page(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    who = await a_customer(client)
    one = await plan(client, who["id"], startDate="2026-01-01", interval="week", backfill=True)
    await plan(client, (await a_customer(client, "+15555550178"))["id"])
    listed = await get(client, f"/v1/service-plans?customerId={who['id']}")
    assert [p["id"] for p in listed["data"]] == [one["id"]]
    await run_billing(client)
    page = await get(client, f"/v1/service-plans/{one['id']}/cycles?limit=10")
    assert len(page["data"]) == 10 and page["nextCursor"]
    rest = await get(client, f"/v1/service-plans/{one['id']}/cycles?limit=200&cursor={page['nextCursor']}")
    starts = [c["periodStart"] for c in page["data"] + rest["data"]]
    assert len(starts) == len(set(starts)) == 18 and starts == sorted(starts)


BAD_PLANS = [
    ({"line_items": []}, "line_items"),
    ({"interval": "fortnight"}, "interval"),
    ({"startDate": "2026-02-30"}, "startDate"),
    ({"startDate": "1999-12-01"}, "startDate"),
    ({"billing": "cheque"}, "billing"),
    ({"dueInDays": 400}, "dueInDays"),
    ({"lineItems": []}, "lineItems"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PLANS)
async def test_malformed_plans_are_400(client: AsyncTestClient[Any], change: dict[str, Any], field: str) -> None:
    body = {
        "customerId": "cus_x",
        "name": "Plan",
        "lineItems": [item("Service", 100)],
        "interval": "month",
        "startDate": "2026-05-01",
        "billing": "invoice",
        **change,
    }
    response = await client.post("/v1/service-plans", json=body, headers=OFFICE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in response.json()["errors"])


async def test_rules_a_plan_keeps_are_422(client: AsyncTestClient[Any]) -> None:
    who = (await a_customer(client))["id"]

    async def refused(status: int = 422, **fields: Any) -> str:
        code: str = (await plan(client, who, status=status, **fields))["code"]
        return code

    assert await refused(customerId="cus_nope") == "unknown_customer"
    assert await refused(lineItems=[item("Free", 0)]) == "nothing_due"
    assert await refused(lineItems=[item("Service", 100), item("Discount", 500, kind="discount")]) == "negative_total"
    euros = {**item("Service", 100), "unitPriceMoney": {"amount": 100, "currency": "EUR"}}
    assert await refused(lineItems=[item("Service", 100), euros]) == "currency_mismatch"
    assert await refused(lineItems=[item("Deposit applied", 100, kind="deposit_applied")]) == "system_line"


async def test_unknown_plans_are_404(client: AsyncTestClient[Any]) -> None:
    for method, path in (
        ("GET", "/v1/service-plans/plan_nope"),
        ("GET", "/v1/service-plans/plan_nope/cycles"),
        ("POST", "/v1/service-plans/plan_nope/pause"),
        ("POST", "/v1/service-plans/plan_nope/resume"),
        ("POST", "/v1/service-plans/plan_nope/cancel"),
    ):
        response = await client.request(method, path, headers=OFFICE)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    assert (await client.post("/v1/billing/run", json={})).status_code == 401


async def test_the_visit_trail_page_reads_the_cycle_the_invoice_and_its_payments(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    made = await plan(client, (await a_customer(client))["id"], dueInDays=5)
    await run_billing(client)
    [cycle] = await cycles(client, made["id"])
    bill = await get(client, f"/v1/invoices/{cycle['invoiceId']}")
    clock.advance(days=3)  # May 4: two days before the invoice is due on May 6
    assert await remind(client) == 1
    assert (await pay_invoice(client, bill)).status_code == 200
    await log_in(client)
    page = await client.get(f"/dispatch/jobs/{cycle['jobId']}")
    assert page.status_code == 200
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))
    assert "Service plan billed: Monthly rooftop maintenance Billing run plan.cycle_billed" in words
    assert "Period May 1, 2026 to May 31, 2026" in words and "By invoice" in words
    assert "Invoice #1 drafted" in words
    assert (
        "Invoice #1 sent Paid Billing run invoice.published Total $99.00 $99.00 left; next payment due May 6" in words
    )
    assert "Reminder: the balance of $99.00 due May 6, 2026 Invoice reminders invoice.reminder_sent" in words
    assert "Card payment $99.00" in words and "Invoice #1 paid in full" in words
    assert f'href="{bill["publicUrl"]}"' in page.text  # with the built-in sandbox, the page opens from the trail
