"""Back-dated plans (contract §3, v3): a plan made with a `startDate` in the past bills from the
period that contains the day it was made, earlier periods only with `backfill: true`; and a run
that bills several periods of one plan texts its customer once for all of them (a plan started
years back once made 1,405 cycles and 1,405 texts to one phone in one scheduler tick)."""

from __future__ import annotations

import sqlite3
from datetime import date
from functools import partial
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.plans import rules
from server.plans import service as plans
from server.store.migrations import migrate
from tests.billing.office import a_customer, cycles, plan, run_billing, texts
from tests.billing.test_plans import at
from tests.conftest import FakeClock
from tests.helpers import get, usd


async def test_a_back_dated_weekly_plan_bills_one_cycle(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    who = await a_customer(client)
    made = await plan(client, who["id"], interval="week", startDate="2022-01-07")  # a Friday, as May 1, 2026
    assert made["nextBillingDate"] == "2026-05-01"  # the week that holds today
    assert await run_billing(client) == 1
    [cycle] = await cycles(client, made["id"])
    assert (cycle["periodStart"], cycle["periodEnd"]) == ("2026-05-01", "2026-05-07")
    [text] = await texts(client)
    assert text["to"] == who["phone"] and "$99.00" in text["body"] and "periods" not in text["body"]
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["nextBillingDate"] == "2026-05-08"

    # A start in the middle of a week: the week holding today began before today.
    clock.now = at("2026-05-05")
    mid = await plan(client, (await a_customer(client, "+15555550178"))["id"], interval="week", startDate="2024-02-07")
    assert mid["nextBillingDate"] == "2026-04-29"
    assert await run_billing(client) == 1
    assert [c["periodStart"] for c in await cycles(client, mid["id"])] == ["2026-04-29"]


async def test_backfill_bills_every_period_and_texts_once(client: AsyncTestClient[Any]) -> None:
    who = await a_customer(client)
    made = await plan(client, who["id"], interval="week", startDate="2025-05-02", backfill=True)
    assert made["nextBillingDate"] == "2025-05-02"
    assert await run_billing(client) == 53  # May 2, 2025 to May 1, 2026, each week once
    billed = await cycles(client, made["id"])
    assert [c["periodStart"] for c in billed[:2]] == ["2025-05-02", "2025-05-09"]
    assert billed[-1]["periodStart"] == "2026-05-01"
    [text] = await texts(client)  # one text to the customer, not 53
    assert text["to"] == who["phone"]
    latest = await get(client, f"/v1/invoices/{billed[-1]['invoiceId']}")
    body = text["body"]
    assert "53 periods billed (May 2, 2025 - May 7, 2026)" in body
    assert "$5,247.00 in all ($99.00 each)" in body and latest["publicUrl"] in body
    assert text["invoiceId"] == latest["id"]
    assert await run_billing(client) == 0
    assert len(await texts(client)) == 1


async def test_a_text_to_pay_catch_up_texts_the_latest_link_once(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    who = await a_customer(client)
    made = await plan(client, who["id"], billing="text_to_pay")  # May 1, 2026
    assert await run_billing(client) == 1
    clock.now = at("2026-08-20")  # the server was down for three months
    assert await run_billing(client) == 3
    billed = await cycles(client, made["id"])
    first, catch_up = await texts(client)  # May's, then one for June to August
    assert first["paymentLinkId"] == billed[0]["paymentLinkId"]
    link = await get(client, f"/v1/payment-links/{billed[-1]['paymentLinkId']}")
    assert catch_up["paymentLinkId"] == link["id"] and link["url"] in catch_up["body"]
    assert "3 periods billed (Jun 1 - Aug 31, 2026), $297.00 in all" in catch_up["body"]
    assert link["amountMoney"] == usd(9900)


async def test_a_catch_up_cut_short_still_texts_once_for_all(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    """Each period is its own transaction: billed periods a crash left untold are told by the
    text of the run that finishes the catch-up."""
    who = await a_customer(client)
    made = await plan(client, who["id"])
    clock.now = at("2026-08-02")
    db = client.app.state["web"].db
    day = date(2026, 8, 2)
    bill = partial(plans.bill_next, plan_id=made["id"], as_of=day, public_url="http://flint.test", business="Flint")
    assert [await db.write(bill) for _ in range(2)] == ["billed", "billed"]  # then the server died
    assert await texts(client) == []
    assert await run_billing(client) == 2
    [text] = await texts(client)
    assert "4 periods billed (May 1 - Aug 31, 2026)" in text["body"]


@pytest.mark.parametrize(
    ("start", "interval", "day", "n"),
    [
        ("2026-05-01", "week", "2026-04-30", 0),
        ("2026-05-01", "week", "2026-05-07", 0),
        ("2026-05-01", "week", "2026-05-08", 1),
        ("2026-01-31", "month", "2026-02-28", 1),
        ("2026-01-31", "month", "2026-03-30", 1),
        ("2026-01-31", "month", "2026-03-31", 2),
        ("2026-01-15", "quarter", "2026-04-14", 0),
        ("2026-01-15", "quarter", "2026-04-15", 1),
        ("2020-02-29", "year", "2026-02-27", 5),
        ("2020-02-29", "year", "2026-02-28", 6),
        ("2000-01-01", "week", "2999-12-31", 52_177),
    ],
)
def test_the_period_containing_a_day(start: str, interval: str, day: str, n: int) -> None:
    begins, today = date.fromisoformat(start), date.fromisoformat(day)
    found = rules.period_containing(begins, interval, today)
    assert found == n
    assert rules.period_start(begins, interval, found) <= today or found == 0
    assert rules.period_start(begins, interval, found + 1) > today


async def test_invoice_cycles_billed_before_keep_their_text(client: AsyncTestClient[Any], db_path: Any) -> None:
    """Stores from before `0012_plan_texts` kept no text on invoice cycles (the invoice's text
    was theirs): the migration records it, so a later catch-up does not count them as untold."""
    made = await plan(client, (await a_customer(client))["id"])
    assert await run_billing(client) == 1
    [cycle] = await cycles(client, made["id"])
    [text] = await texts(client)
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE service_plan_cycles SET sms_id = NULL")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0012_plan_texts'")
    conn.execute("DROP INDEX service_plan_cycles_untexted")
    conn.commit()
    conn.close()
    assert migrate(str(db_path)) == ["0012_plan_texts"]
    conn = sqlite3.connect(db_path)
    [(sms_id,)] = conn.execute("SELECT sms_id FROM service_plan_cycles WHERE invoice_id = ?", (cycle["invoiceId"],))
    conn.close()
    assert sms_id == text["id"]
