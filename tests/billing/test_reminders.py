"""Reminders by text 3 days before each due date, on it, and 7 days after (contract §3): each at
most once, never for a request that is paid, never to a number that opted out. The clock moves
a day at a time and the reminder run (the scheduler's, here called through its route) runs twice
a day."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.billing.office import (
    AP_PHONE,
    balance,
    deposit,
    pay_invoice,
    published,
    remind,
    texts,
    trail_types,
    work_order,
)
from tests.conftest import FakeClock
from tests.helpers import cash, get


async def reminders(client: AsyncTestClient[Any], order_id: str) -> list[str]:
    return [m["body"] for m in await texts(client, orderId=order_id) if "reminder" in m["body"]]


async def days_pass(client: AsyncTestClient[Any], clock: FakeClock, days: int, order_id: str) -> dict[str, list[str]]:
    """Move the clock a day at a time, running reminders twice a day: what was sent on which day."""
    sent: dict[str, list[str]] = {}
    for _ in range(days):
        clock.advance(days=1)
        before = len(await reminders(client, order_id))
        await remind(client)
        clock.advance(hours=6)
        await remind(client)
        clock.advance(hours=-6)
        new = (await reminders(client, order_id))[before:]
        if new:
            sent[clock.now.date().isoformat()] = new
    return sent


async def test_before_on_and_after_each_due_date_once(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await work_order(client, amount=150000)
    shown = await published(client, the_order["id"], deposit("2026-05-10", amount=30000), balance("2026-05-31"))
    sent = await days_pass(client, clock, 45, the_order["id"])
    assert list(sent) == ["2026-05-07", "2026-05-10", "2026-05-17", "2026-05-28", "2026-05-31", "2026-06-07"]
    assert all(len(bodies) == 1 for bodies in sent.values())
    assert "the deposit of $300.00 on invoice #1 is due May 10, 2026" in sent["2026-05-07"][0]
    assert "the deposit of $300.00 on invoice #1 is due today" in sent["2026-05-10"][0]
    assert "the deposit of $300.00 on invoice #1 was due May 10, 2026 and is overdue" in sent["2026-05-17"][0]
    assert "the balance of $1,200.00 on invoice #1 is due May 31, 2026" in sent["2026-05-28"][0]
    assert all(shown["publicUrl"] in bodies[0] for bodies in sent.values())
    assert {m["to"] for m in await texts(client, orderId=the_order["id"])} == {AP_PHONE}
    types = await trail_types(client, the_order["jobId"])
    assert types.count("invoice.reminder_sent") == 6


async def test_none_for_a_request_once_it_is_paid(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await work_order(client, amount=150000)
    shown = await published(client, the_order["id"], deposit("2026-05-10", amount=30000), balance("2026-05-31"))
    sent = await days_pass(client, clock, 7, the_order["id"])  # to May 8
    assert list(sent) == ["2026-05-07"]
    assert (await pay_invoice(client, shown)).status_code == 200  # the deposit, on May 8
    sent = await days_pass(client, clock, 21, the_order["id"])  # to May 29
    assert list(sent) == ["2026-05-28"] and "balance" in sent["2026-05-28"][0]
    assert (await pay_invoice(client, shown)).status_code == 200  # the balance, on May 29
    assert await days_pass(client, clock, 30, the_order["id"]) == {}
    assert (await get(client, f"/v1/invoices/{shown['id']}"))["state"] == "paid"


async def test_an_invoice_paid_another_way_gets_no_reminders_and_is_noted_paid(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    the_order = await work_order(client, amount=10000)
    await published(client, the_order["id"], balance("2026-05-10"))
    await cash(client, the_order["id"], 10000)
    assert await days_pass(client, clock, 20, the_order["id"]) == {}
    types = await trail_types(client, the_order["jobId"])
    assert types.count("invoice.paid") == 1


async def test_a_server_that_was_down_sends_the_latest_reminder_only(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    the_order = await work_order(client, amount=10000)
    await published(client, the_order["id"], balance("2026-05-10"))
    clock.advance(days=19)  # May 20: the before, due and after days all passed unseen
    assert await remind(client) == 1
    assert await remind(client) == 0
    [sent] = await reminders(client, the_order["id"])
    assert "overdue" in sent


async def test_none_the_day_the_invoice_itself_said_it(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await work_order(client, amount=10000)
    await published(client, the_order["id"], balance("2026-05-02"))  # published May 1, due tomorrow
    sent = await days_pass(client, clock, 10, the_order["id"])
    assert list(sent) == ["2026-05-02", "2026-05-09"]  # due today, then overdue; "in 3 days" never fit


def opt(db_path: Path, phone: str, opted_out: bool, at: str) -> None:
    """The number's answer to texts, as an inbound STOP or START records it."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO sms_opt_outs (phone, opted_out, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out",
                (phone, int(opted_out), at),
            )
    finally:
        conn.close()


async def test_none_to_a_number_that_opted_out_and_the_next_after_it_opts_in(
    client: AsyncTestClient[Any], clock: FakeClock, db_path: Path
) -> None:
    the_order = await work_order(client, amount=10000)
    await published(client, the_order["id"], balance("2026-05-10"))
    opt(db_path, AP_PHONE, True, "2026-05-02T00:00:00.000Z")
    sent = await days_pass(client, clock, 8, the_order["id"])  # to May 9: the before day passes
    assert sent == {}
    # Nothing queued at all: no blocked text either, and no reminder recorded as sent.
    assert [m["body"] for m in await texts(client, orderId=the_order["id"])][1:] == []
    opt(db_path, AP_PHONE, False, "2026-05-09T00:00:00.000Z")
    sent = await days_pass(client, clock, 1, the_order["id"])
    assert list(sent) == ["2026-05-10"] and "due today" in sent["2026-05-10"][0]
