"""Contract §3 v3, one answer to what a job owes: each bug a new user or a review found, as the
test that would have caught it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.customers import service as customers
from server.customers.types import CreateCustomer
from server.errors import RuleViolation
from server.jobs import service as jobs
from server.jobs.types import CreateJob
from server.money import MoneyIn, PositiveMoneyIn
from server.orders import service as orders
from server.orders.types import CreateOrder, LineItemIn
from server.payments import refunds
from server.payments import service as payments
from server.payments.processor import Charge
from server.payments.service import Collecting, Target
from server.payments.types import CreateRefund, RecordPayment
from server.store.db import connect, write_sync
from server.store.migrations import migrate
from server.wire import Actor
from tests.conftest import OFFICE
from tests.helpers import GOOD_CARD, cash, get, item, job, pay, pay_path, post, usd
from tests.server.test_collect_by_job import deposit_job, paid_by_card, work_order
from tests.sync.conftest import Phone, phone_for

SYSTEM = Actor(kind="office", id="office")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def expected_amount(html: str) -> str:
    found = re.search(r'name="expectedAmount" value="(\d+)"', html)
    assert found is not None, html
    return found.group(1)


async def balance(client: AsyncTestClient[Any], job_id: str) -> int:
    return int((await get(client, f"/v1/jobs/{job_id}"))["payment"]["balanceMoney"]["amount"])


async def test_a_page_never_charges_more_than_it_showed(client: AsyncTestClient[Any]) -> None:
    """The link page showed $89.00; the office added a $2,400.00 line; the customer pressed Pay:
    409 with the new amount and nothing charged; paying again charges the new amount once."""
    the_job = await job(client)
    work = await work_order(client, the_job["id"], item("Diagnostic visit", 8900))
    made = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    page = await client.get(pay_path(made))
    assert "Pay $89.00" in text_of(page.text) and expected_amount(page.text) == "8900"

    await post(client, f"/v1/orders/{work['id']}/line-items", {"lineItems": [item("Compressor", 240000)]}, 200)
    stale = await client.post(pay_path(made), data={**GOOD_CARD, "expectedAmount": "8900"})
    assert stale.status_code == 409
    assert "$2,489.00" in text_of(stale.text) and expected_amount(stale.text) == "248900"
    assert (await get(client, f"/v1/payments?jobId={the_job['id']}"))["data"] == []

    fresh = await client.post(pay_path(made), data={**GOOD_CARD, "expectedAmount": expected_amount(stale.text)})
    assert fresh.status_code == 200 and "Paid $2,489.00" in text_of(fresh.text)
    again = await client.post(pay_path(made), data={**GOOD_CARD, "expectedAmount": "248900"})
    assert again.status_code == 200
    payments = (await get(client, f"/v1/payments?jobId={the_job['id']}"))["data"]
    assert [p["amountMoney"]["amount"] for p in payments] == [248900]


async def test_a_script_without_the_field_is_charged_what_is_due_now(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    await work_order(client, the_job["id"], item("Repair", 8900))
    made = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    assert (await pay(client, made)).status_code == 200
    assert await balance(client, the_job["id"]) == 0


async def test_a_deposit_order_made_after_the_work_is_not_owed_on_top(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    await work_order(client, the_job["id"], item("Compressor repair", 120000))
    deposit = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [item("Dispatch deposit", 7500)],
            "jobId": the_job["id"],
            "metadata": {"paymentStage": "dispatch_deposit"},
        },
    )
    assert deposit["jobId"] == the_job["id"]
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert (shown["payment"]["totalMoney"], shown["payment"]["balanceMoney"]) == (usd(120000), usd(120000))
    assert (await get(client, "/v1/jobs"))["data"][0]["payment"]["balanceMoney"] == usd(120000)
    link = await paid_by_card(client, {"name": "Balance", "jobId": the_job["id"]})
    assert (await get(client, f"/v1/payment-links/{link['id']}"))["amountMoney"] == usd(120000)
    assert await balance(client, the_job["id"]) == 0
    assert (await get(client, f"/v1/orders/{deposit['id']}"))["balanceMoney"] == usd(0)


async def test_work_paid_by_its_order_link_leaves_no_deposit_to_collect(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client)
    deposit_link = await post(
        client, "/v1/payment-links", {"name": "Deposit", "orderId": deposit["id"], "amountMoney": usd(7500)}
    )
    work = await work_order(client, the_job["id"], item("Compressor repair", 120000))
    await paid_by_card(client, {"name": "Work", "orderId": work["id"]})
    assert await balance(client, the_job["id"]) == 0
    refused = await client.post("/v1/payment-links", json={"name": "Balance", "jobId": the_job["id"]}, headers=OFFICE)
    assert (refused.status_code, refused.json()["code"]) == (422, "nothing_due")
    assert (await get(client, f"/v1/payment-links/{deposit_link['id']}"))["status"] == "closed"
    closed = await pay(client, deposit_link)
    assert closed.status_code == 409 and "Paid" not in text_of(closed.text)


def test_cash_while_a_card_charge_is_in_doubt_cannot_collect_twice(tmp_path: Path) -> None:
    """A job link's charge is in doubt (the processor has not answered): the money counts as paid
    until it settles, so cash recorded meanwhile cannot take it again; once it settles declined,
    the job owes it again."""
    path = tmp_path / "flint.db"
    migrate(str(path))
    conn = connect(path)
    at = iter(range(1, 100))

    def run(unit: Any) -> Any:
        return write_sync(conn, f"2026-05-01T14:00:{next(at):02d}.000Z", unit)

    try:
        who = run(lambda tx: customers.create(tx, CreateCustomer("Ana", "+15555550101", "residential")))
        the_job = run(lambda tx: jobs.create(tx, SYSTEM, CreateJob(customer_id=who.id, title="t", address="a")))
        deposit = CreateOrder(
            line_items=[LineItemIn(name="Dispatch deposit", quantity=1, unit_price_money=MoneyIn(7500, "USD"))],
            metadata={"jobId": the_job.id, "paymentStage": "dispatch_deposit"},
        )
        run(lambda tx: orders.create(tx, SYSTEM, deposit))
        work = CreateOrder(
            line_items=[LineItemIn(name="Repair", quantity=1, unit_price_money=MoneyIn(120000, "USD"))],
            metadata={"jobId": the_job.id},
        )
        run(lambda tx: orders.create(tx, SYSTEM, work))
        target = Target(job_id=the_job.id)
        attempt = run(lambda tx: payments.reserve_card(tx, SYSTEM, target, None, Collecting(source="pay_link")))
        assert attempt.amount.amount == 120000
        assert run(lambda tx: jobs.get(tx, the_job.id)).payment.balance_money.amount == 0
        cash_now = RecordPayment(job_id=the_job.id, amount_money=PositiveMoneyIn(7500, "USD"), method="cash")
        with pytest.raises(RuleViolation) as refused:
            run(lambda tx: payments.record_offline(tx, SYSTEM, cash_now, business="Flint"))
        assert refused.value.code == "payment_in_progress"
        declined = Charge(approved=False, brand="visa", last4="0002", decline_code="card_declined")
        run(lambda tx: payments.settle_card(tx, SYSTEM, attempt.charge_id, declined, "Flint"))
        assert run(lambda tx: jobs.get(tx, the_job.id)).payment.balance_money.amount == 120000
        run(lambda tx: payments.record_offline(tx, SYSTEM, cash_now, business="Flint"))
        assert run(lambda tx: jobs.get(tx, the_job.id)).payment.balance_money.amount == 112500
    finally:
        conn.close()


async def test_an_add_on_on_a_deposit_order_is_refused(client: AsyncTestClient[Any]) -> None:
    _, deposit = await deposit_job(client)
    refused = await client.post(
        f"/v1/orders/{deposit['id']}/line-items", json={"lineItems": [item("Blower", 50000)]}, headers=OFFICE
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "deposit_order")
    assert (await get(client, f"/v1/orders/{deposit['id']}"))["totalMoney"] == usd(7500)


async def test_a_device_add_on_on_a_deposit_order_is_rejected_and_by_job_makes_the_work_order(
    client: AsyncTestClient[Any],
) -> None:
    phone: Phone = await phone_for(client)
    the_job, deposit = await deposit_job(client)
    await client.patch(
        f"/v1/jobs/{the_job['id']}", json={"version": 1, "technicianId": phone.technician_id}, headers=OFFICE
    )
    line = {"uid": "u1", "name": "Blower", "quantity": 1, "unitPriceMoney": usd(50000)}
    answer = await phone.push(
        {"id": 1, "name": "order.addLineItem", "args": {"orderId": deposit["id"], **line}},
        {"id": 2, "name": "order.addLineItem", "args": {"jobId": the_job["id"], **line, "uid": "u2"}},
        {"id": 3, "name": "order.addLineItem", "args": {"jobId": the_job["id"], **line, "uid": "u3"}},
    )
    assert [r.get("code") for r in answer["results"]] == ["deposit_order", None, None]
    made = answer["results"][1]["data"]["orderId"]
    assert answer["results"][2]["data"]["orderId"] == made  # the job's one open work order now
    work = await get(client, f"/v1/orders/{made}")
    assert work["metadata"] == {"jobId": the_job["id"], "paymentStage": "work"}
    assert [x["uid"] for x in work["lineItems"]] == ["u2", "u3"]
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert shown["payment"]["balanceMoney"] == usd(100000)  # the unpaid deposit asks part of it


async def move(client: AsyncTestClient[Any], order_id: str, metadata: dict[str, str]) -> dict[str, Any]:
    version = (await get(client, f"/v1/orders/{order_id}"))["version"]
    moved = await client.patch(
        f"/v1/orders/{order_id}", json={"version": version, "metadata": metadata}, headers=OFFICE
    )
    assert moved.status_code == 200, moved.text
    return dict(moved.json())


def applied(order: dict[str, Any]) -> int:
    return sum(x["totalMoney"]["amount"] for x in order["lineItems"] if x["kind"] == "deposit_applied")


async def test_an_order_moved_off_its_job_leaves_its_deposit_behind(client: AsyncTestClient[Any]) -> None:
    """Taken off its job, the work order kept `Deposit applied -$75.00` while the job counted the
    same $75.00 as unapplied: $150.00 of credit from a $75.00 deposit."""
    first, deposit = await deposit_job(client)
    await paid_by_card(client, {"name": "Deposit", "orderId": deposit["id"], "amountMoney": usd(7500)})
    work = await work_order(client, first["id"], item("Repair", 20000))
    assert applied(await get(client, f"/v1/orders/{work['id']}")) == 7500
    off = await move(client, work["id"], {})
    assert (applied(off), off["totalMoney"]) == (0, usd(20000))
    old = await get(client, f"/v1/jobs/{first['id']}")
    assert (old["payment"]["depositUnappliedMoney"], old["payment"]["balanceMoney"]) == (usd(7500), usd(0))

    second, other = await deposit_job(client, 15000)
    await paid_by_card(client, {"name": "Deposit", "orderId": other["id"], "amountMoney": usd(15000)})
    on = await move(client, work["id"], {"jobId": second["id"]})
    assert (applied(on), on["totalMoney"]) == (15000, usd(5000))  # the new job's deposit alone
    assert (await get(client, f"/v1/jobs/{second['id']}"))["payment"]["balanceMoney"] == usd(5000)


async def test_the_receipt_says_what_the_job_still_owes(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client, 5000)
    await work_order(client, the_job["id"], item("Repair", 20000))
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert shown["payment"]["totalMoney"] == usd(20000)  # not $250.00: the deposit is part of the work
    made = await post(
        client, "/v1/payment-links", {"name": "Deposit", "orderId": deposit["id"], "amountMoney": usd(5000)}
    )
    receipt = await pay(client, made)
    assert receipt.status_code == 200
    assert "Still due on this job $150.00" in text_of(receipt.text)
    shown = await get(client, f"/v1/jobs/{the_job['id']}")
    assert (shown["payment"]["totalMoney"], shown["payment"]["paidMoney"], shown["payment"]["balanceMoney"]) == (
        usd(20000), usd(5000), usd(15000),
    )  # fmt: skip


async def test_a_refunded_deposit_stays_on_the_record(client: AsyncTestClient[Any]) -> None:
    the_job, deposit = await deposit_job(client, 10000)
    await paid_by_card(client, {"name": "Deposit", "orderId": deposit["id"], "amountMoney": usd(10000)})
    work = await work_order(client, the_job["id"], item("Repair", 30000))
    payment = (await get(client, f"/v1/payments?orderId={deposit['id']}"))["data"][0]
    await post(client, "/v1/refunds", {"paymentId": payment["id"], "amountMoney": usd(2000), "reason": "goodwill"})
    shown = await get(client, f"/v1/orders/{deposit['id']}")
    lines = {x["kind"]: x["totalMoney"]["amount"] for x in shown["lineItems"]}
    assert lines["service"] == 10000 and lines["deposit_refunded"] == 2000  # the $100.00 deposit is still asked
    assert shown["balanceMoney"] == usd(0)
    assert (await get(client, f"/v1/orders/{work['id']}"))["totalMoney"] == usd(22000)
    assert await balance(client, the_job["id"]) == 22000  # rose by exactly the refund


async def test_cash_checks_and_refunds_text_the_customer_what_is_still_owed(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    work = await work_order(client, the_job["id"], item("Repair", 20000))
    paid = await cash(client, work["id"], 5000)
    await post(client, "/v1/refunds", {"paymentId": paid["id"], "amountMoney": usd(1000), "reason": "goodwill"})
    bodies = [m["body"] for m in (await get(client, f"/v1/sms?jobId={the_job['id']}"))["data"]]
    assert any("receipt for $50.00 paid in cash for AC not cooling. Still owed: $150.00." in b for b in bodies)
    assert any("refunded $10.00 for AC not cooling. Still owed: $160.00." in b for b in bodies)


async def test_a_refunds_key_expires_and_is_bound_to_its_body(client: AsyncTestClient[Any], clock: Any) -> None:
    the_job = await job(client)
    work = await work_order(client, the_job["id"], item("Repair", 20000))
    paid = await cash(client, work["id"], 20000)
    body = {"paymentId": paid["id"], "amountMoney": usd(1000), "reason": "goodwill"}
    await post(client, "/v1/refunds", body, **{"Idempotency-Key": "r-1"})
    other = await client.post(
        "/v1/refunds", json={**body, "amountMoney": usd(2000)}, headers={**OFFICE, "Idempotency-Key": "r-1"}
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    clock.advance(days=8)
    later = await client.post("/v1/refunds", json=body, headers={**OFFICE, "Idempotency-Key": "r-1"})
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    refunds = (await get(client, f"/v1/refunds?paymentId={paid['id']}"))["data"]
    assert [r["amountMoney"]["amount"] for r in refunds] == [1000, 1000]


async def test_a_double_tap_on_text_to_pay_sends_one_text(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    await work_order(client, the_job["id"], item("Repair", 20000))
    made = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": the_job["id"]})
    first = await post(client, f"/v1/payment-links/{made['id']}/send-sms", {}, 202)
    second = await post(client, f"/v1/payment-links/{made['id']}/send-sms", {}, 202)
    assert first["id"] == second["id"]
    sent = [m for m in (await get(client, f"/v1/sms?jobId={the_job['id']}"))["data"] if m.get("paymentLinkId")]
    assert len(sent) == 1


async def test_a_rejection_out_of_scope_touches_no_trail(client: AsyncTestClient[Any]) -> None:
    mine: Phone = await phone_for(client)
    theirs = await job(client)
    answer = await mine.push({"id": 1, "name": "job.setStatus", "args": {"jobId": theirs["id"], "status": "en_route"}})
    assert answer["results"][0]["code"] == "not_assigned"
    trail = (await get(client, f"/v1/jobs/{theirs['id']}/trail"))["events"]
    assert [e["type"] for e in trail if e["type"] == "mutation.rejected"] == []


def test_a_refund_completed_by_two_hands_is_counted_once(tmp_path: Path) -> None:
    """The request that asked for a refund and the run that settles refunds in doubt can both ask
    the processor; the one that answers last must not put a completed refund back to pending (the
    soak found it: a $29.88 refund counted twice in the order's figures)."""
    path = tmp_path / "flint.db"
    migrate(str(path))
    conn = connect(path)
    at = iter(range(1, 100))

    def run(unit: Any) -> Any:
        return write_sync(conn, f"2026-05-01T14:00:{next(at):02d}.000Z", unit)

    try:
        made = CreateOrder(line_items=[LineItemIn(name="Repair", quantity=1, unit_price_money=MoneyIn(20000, "USD"))])
        order_id = run(lambda tx: orders.create(tx, SYSTEM, made)).id
        cash = RecordPayment(order_id=order_id, amount_money=PositiveMoneyIn(20000, "USD"), method="cash")
        payment = run(lambda tx: payments.record_offline(tx, SYSTEM, cash, business="Flint"))
        asked = CreateRefund(payment_id=payment.id, amount_money=PositiveMoneyIn(2988, "USD"), reason="late")
        plan = run(lambda tx: refunds.plan_refund(tx, asked))
        run(lambda tx: refunds.complete_refund(tx, SYSTEM, plan.refund_id, "Flint"))  # one hand
        run(lambda tx: refunds.note_processor_ref(tx, plan.refund_id, "re_1"))  # the other, answered late
        run(lambda tx: refunds.complete_refund(tx, SYSTEM, plan.refund_id, "Flint"))
        shown = run(lambda tx: orders.get(tx, order_id))
        assert (shown.refunded_money.amount, shown.balance_money.amount) == (2988, 2988)
        assert run(lambda tx: refunds.get_refund(tx, plan.refund_id)).status == "completed"
    finally:
        conn.close()
