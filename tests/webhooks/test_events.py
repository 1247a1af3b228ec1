"""The event feed: every trail event is an account event carrying the object it changed, as the
API shows it after the change; rendered once per object per transaction; listed oldest first
with filters; kept 30 days."""

from __future__ import annotations

import ast
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any, get_args

import pytest
from litestar.testing import AsyncTestClient

from server.events import rules
from server.events.service import Publisher
from server.events.types import EventType
from server.scheduler import PURGE_EVENTS, Scheduler
from tests.conftest import OFFICE, FakeClock
from tests.helpers import GOOD_CARD, cash, customer, get, item, job, link, order, pay_path, post, usd
from tests.process import doctor
from tests.sync.conftest import add_line, phone_for
from tests.webhooks.conftest import Hooks, api
from tests.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent.parent


def _object_path(event: dict[str, Any]) -> str | None:
    """Where the API shows the object an event carries, by its type."""
    data, kind = event["data"], event["type"].split(".")[0]
    paths = {
        "job": "/v1/jobs/",
        "order": "/v1/orders/",
        "payment": "/v1/payments/",
        "refund": "/v1/refunds/",
        "payment_link": "/v1/payment-links/",
        "sms": "/v1/sms/",
        "invoice": "/v1/invoices/",
        "plan": "/v1/service-plans/",
        "estimate": "/v1/estimates/",
        "approval": "/v1/approval-requests/",
    }
    if kind == "payment" and data["id"].startswith("est_"):  # a declined deposit made no payment
        return "/v1/estimates/" + data["id"]
    return paths[kind] + data["id"] if kind in paths else None


class Feed:
    """Reads the events each step made and checks each against the API right after the step."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.seen: list[dict[str, Any]] = []

    async def check(self) -> None:
        after = f"&after={self.seen[-1]['id']}" if self.seen else ""
        new = (await get(self.client, f"/v1/events?limit=200{after}"))["data"]
        for event in new:
            where = _object_path(event)
            if where is None:
                continue
            shown = await get(self.client, where)
            if event["type"].startswith("plan."):
                cycles = (await get(self.client, where + "/cycles"))["data"]
                assert event["data"] == {**shown, "cycle": cycles[-1]}
                assert event["jobId"] == cycles[-1]["jobId"]
            elif event["type"].startswith("sms."):  # the text worker moves it on meanwhile
                stable = ("id", "to", "body", "paymentLinkId", "invoiceId", "orderId", "jobId", "createdAt")
                assert {k: event["data"].get(k) for k in stable} == {k: shown.get(k) for k in stable}
            else:
                assert event["data"] == shown, (event["type"], where)
        self.seen += new


async def test_every_event_carries_its_object_as_the_api_shows_it(
    client: AsyncTestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    feed = Feed(client)
    phone = await phone_for(client)
    who = await customer(client, "+15125550143")
    work = await post(
        client,
        "/v1/jobs",
        {
            "customerId": who["id"],
            "title": "AC not cooling",
            "address": "1402 Elm St",
            "technicianId": phone.technician_id,
        },
    )
    await feed.check()
    deposit = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [item("Dispatch deposit", 7500)],
            "metadata": {"jobId": work["id"], "paymentStage": "dispatch_deposit"},
        },
    )
    await feed.check()
    paying = await link(client, deposit["id"])
    await feed.check()
    await post(client, f"/v1/payment-links/{paying['id']}/send-sms", {}, 202)
    await feed.check()
    assert (await client.post(pay_path(paying), data=GOOD_CARD)).status_code == 200
    await feed.check()
    [captured] = (await get(client, f"/v1/payments?orderId={deposit['id']}"))["data"]
    await post(client, "/v1/refunds", {"paymentId": captured["id"], "amountMoney": usd(2500), "reason": "Goodwill"})
    await feed.check()
    labour = await order(client, work["id"], item("Compressor swap", 120000))
    await feed.check()
    invoice = await post(client, "/v1/invoices", {"orderId": labour["id"], "recipient": {"name": "Dana Whitfield"}})
    await feed.check()
    await post(client, f"/v1/invoices/{invoice['id']}/publish", None, 200)
    await feed.check()
    await cash(client, labour["id"], 5000)
    await feed.check()
    await api(client, "PATCH", f"/v1/jobs/{work['id']}", {"version": 1, "status": "dispatched"})
    await feed.check()
    await phone.push(
        add_line(1, labour["id"], 4500),
        {"id": 2, "name": "order.addLineItem", "args": {"orderId": "ord_gone", "uid": str(uuid.uuid4())}},
    )
    await feed.check()
    await post(
        client,
        "/v1/service-plans",
        {
            "customerId": who["id"],
            "name": "Quarterly tune-up",
            "lineItems": [item("Tune-up", 18900)],
            "interval": "quarter",
            "startDate": "2026-05-01",
            "billing": "invoice",
        },
    )
    await post(client, "/v1/billing/run", {"asOf": "2026-05-01"}, 200)
    await feed.check()

    types = {e["type"] for e in feed.seen}
    assert {
        "job.created", "job.assigned", "job.status_changed", "order.created", "order.line_item_added",
        "order.deposit_applied", "payment_link.created", "sms.queued", "payment.captured", "refund.created",
        "invoice.created", "invoice.published", "payment.recorded", "plan.cycle_billed", "mutation.rejected",
    } <= types  # fmt: skip
    assert not [r for r in caplog.records if r.name == "flint.events"], "every event named an object the feed knows"
    assert len({e["id"] for e in feed.seen}) == len(feed.seen) and all(e["id"].startswith("evt_") for e in feed.seen)
    [rejected] = [e for e in feed.seen if e["type"] == "mutation.rejected"]
    assert rejected["data"] == {
        "mutationId": 2,
        "name": "order.addLineItem",
        "code": "invalid_args",
        "detail": rejected["data"]["detail"],
        "deviceId": phone.device_id,
    }


async def test_a_push_of_500_add_ons_renders_the_order_once(client: AsyncTestClient[Any], db_path: Path) -> None:
    phone = await phone_for(client)
    who = await customer(client)
    work = await post(
        client,
        "/v1/jobs",
        {"customerId": who["id"], "title": "Rewire panel", "address": "9 Oak", "technicianId": phone.technician_id},
    )
    made = await order(client, work["id"], item("Panel upgrade", 250000))
    result = await phone.push(*(add_line(i, made["id"], 1200, name=f"Breaker {i}") for i in range(1, 501)))
    assert result["lastMutationId"] == 500

    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT object_n) FROM events WHERE type = 'order.line_item_added'"
        ).fetchone()
    finally:
        conn.close()
    assert rows == (500, 1)
    added = await get(client, f"/v1/events?type=order.line_item_added&limit=200&jobId={work['id']}")
    final = await get(client, f"/v1/orders/{made['id']}")
    assert len(final["lineItems"]) == 501
    assert all(e["data"] == final for e in added["data"])  # the order after the whole push


async def test_the_feed_filters_and_resumes(client: AsyncTestClient[Any]) -> None:
    one = await job(client)
    two = await job(client, title="Water heater leak")
    await order(client, one["id"], item("Diagnostic visit", 8900))
    every = (await get(client, "/v1/events"))["data"]
    assert [e["type"] for e in every] == ["job.created", "job.created", "order.created"]

    created = (await get(client, "/v1/events?type=job.created"))["data"]
    assert [e["data"]["id"] for e in created] == [one["id"], two["id"]]
    mine = (await get(client, f"/v1/events?jobId={one['id']}"))["data"]
    assert [e["type"] for e in mine] == ["job.created", "order.created"]
    after = (await get(client, f"/v1/events?after={every[0]['id']}"))["data"]
    assert [e["id"] for e in after] == [e["id"] for e in every[1:]]
    first = await get(client, "/v1/events?limit=1")
    rest = await get(client, f"/v1/events?limit=5&cursor={first['nextCursor']}")
    assert [e["id"] for e in first["data"] + rest["data"]] == [e["id"] for e in every]
    assert rest["nextCursor"] is None
    assert (await get(client, f"/v1/events/{every[2]['id']}")) == every[2]

    for bad, field in (("after=evt_nope", "after"), ("type=job.made", "type"), ("cursor=%21%21", "cursor")):
        refused = await client.get(f"/v1/events?{bad}", headers=OFFICE)
        assert refused.status_code == 400, bad
        assert field in str(refused.json()["errors"]), bad
    assert (await client.get("/v1/events/evt_nope", headers=OFFICE)).status_code == 404


async def test_events_are_kept_30_days(hooks: Hooks, receiver: Receiver, clock: FakeClock) -> None:
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    old = await job(hooks.client)
    await hooks.settle()
    clock.advance(days=29)
    recent = await job(hooks.client)
    await hooks.settle()
    clock.advance(days=1, seconds=1)

    scheduler = Scheduler(hooks.client.app.state["web"].db)
    scheduler.start()
    try:
        await scheduler.run_now(PURGE_EVENTS)
    finally:
        scheduler.shutdown()
    kept = await hooks.events()
    assert [e["data"]["id"] for e in kept] == [recent["id"]]
    assert [d["eventId"] for d in await hooks.deliveries(endpoint["id"])] == [kept[0]["id"]]
    assert old["id"] not in str(kept)


async def test_a_render_that_fails_does_not_undo_the_change(
    client: AsyncTestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    db = client.app.state["web"].db
    [finish] = db.finishing
    publisher: Publisher = finish.__self__

    def broken(tx: Any, order_id: str) -> object:
        raise RuntimeError("renderer bug")

    publisher.renderers[rules.ORDER] = broken
    work = await job(client)
    made = await order(client, work["id"], item("Diagnostic visit", 8900))
    assert (await get(client, f"/v1/orders/{made['id']}"))["id"] == made["id"]
    [event] = (await get(client, "/v1/events?type=order.created"))["data"]
    assert event["data"]["orderId"] == made["id"]  # the trail's own data
    assert any("could not render order" in r.getMessage() for r in caplog.records)


def test_the_catalogue_names_every_event_the_server_writes() -> None:
    assert set(get_args(EventType)) == set(rules.TYPES)
    assert {t.split(".")[0] for t in rules.TYPES} == set(rules.KINDS)
    pattern = re.compile(rf"^({'|'.join(rules.KINDS)})\.[a-z_]+$")
    written = set()
    for path in (ROOT / "server").rglob("*.py"):
        if path.parent.name == "events":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value):
                written.add(node.value)
    written -= {"invoice.html", "estimate.html", "approval.html"}  # templates' names, not events
    assert written and written <= set(rules.TYPES), written - set(rules.TYPES)


async def test_doctor_names_a_delivery_or_event_that_points_at_nothing(
    hooks: Hooks, receiver: Receiver, db_path: Path
) -> None:
    await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()
    assert doctor(db_path).returncode == 0
    [event] = await hooks.events()
    conn = sqlite3.connect(db_path)
    with conn:  # this connection does not enforce foreign keys, as a damaged store would not have
        conn.execute("DELETE FROM event_objects")
        conn.execute("DELETE FROM events")
    conn.close()
    checked = doctor(db_path)
    assert checked.returncode == 1
    assert f"sends event {event['id']}, which does not exist" in checked.stdout
