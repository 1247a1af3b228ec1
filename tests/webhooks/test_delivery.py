"""Deliveries to a receiver on loopback, each verified with the reference `standardwebhooks`
library: once each, retried with the same `webhook-id`, 410 and 3 days of failures disable,
rotated secrets overlap for 24 hours, a job's events arrive in order, the office retries one."""

from __future__ import annotations

from datetime import timedelta

from server.clock import parse_time
from server.webhooks import rules
from tests.conftest import OFFICE
from tests.dispatch.conftest import log_in
from tests.helpers import cash, get, item, job, order, post, usd
from tests.webhooks.conftest import Hooks, api
from tests.webhooks.receiver import Receiver


async def test_a_payment_is_delivered_once_and_verifies(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver, ["payment.recorded"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "enabled"
    work = await job(hooks.client)
    made = await order(hooks.client, work["id"], item("Diagnostic visit", 8900))
    payment = await cash(hooks.client, made["id"], 8900)
    await hooks.settle()
    await hooks.later(minutes=10)  # nothing more comes

    [delivery] = receiver.received
    assert delivery.verified_by == [endpoint["secret"]]
    [event] = await hooks.events(type="payment.recorded")
    assert delivery.id == event["id"] and delivery.headers["content-type"] == "application/json"
    assert delivery.payload == {"type": "payment.recorded", "timestamp": event["createdAt"], "data": payment}
    assert int(delivery.headers["webhook-timestamp"]) == int(hooks.clock.now.timestamp()) - 600
    [logged] = await hooks.deliveries(endpoint["id"])
    assert logged["eventId"] == event["id"] and logged["status"] == "delivered"
    assert (logged["attempts"], logged["lastStatusCode"], logged["lastError"]) == (1, 200, None)


async def test_a_500_then_a_200_is_two_attempts_with_one_webhook_id(hooks: Hooks, receiver: Receiver) -> None:
    receiver.answers.extend([500, 200])
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()

    [first] = await hooks.deliveries(endpoint["id"])
    assert (first["status"], first["attempts"], first["lastStatusCode"], first["lastError"]) == (
        "pending", 1, 500, "HTTP 500"
    )  # fmt: skip
    wait = parse_time(first["nextAttemptAt"]) - hooks.clock.now
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=5.5)
    await hooks.later(seconds=4)
    assert len(receiver.received) == 1  # not yet
    await hooks.later(seconds=2)

    one, two = receiver.received
    assert one.id == two.id and one.body == two.body
    assert one.headers["webhook-timestamp"] != two.headers["webhook-timestamp"]
    assert one.verified_by == two.verified_by == [endpoint["secret"]]
    [done] = await hooks.deliveries(endpoint["id"])
    assert (done["status"], done["attempts"], done["lastStatusCode"]) == ("delivered", 2, 200)
    assert done["nextAttemptAt"] is None


async def test_410_disables_the_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    receiver.answers.append(410)
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()
    gone = await get(hooks.client, f"/v1/webhook-endpoints/{endpoint['id']}")
    assert (gone["status"], gone["disabledReason"]) == ("disabled", "gone")
    [failed] = await hooks.deliveries(endpoint["id"])
    assert (failed["status"], failed["lastStatusCode"], failed["attempts"]) == ("failed", 410, 1)

    await job(hooks.client)  # nothing more is made for it, or sent
    await hooks.later(hours=1)
    assert len(receiver.received) == 1 and len(await hooks.deliveries(endpoint["id"])) == 1

    # Enabled again, it receives what happens from then on.
    await api(hooks.client, "PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "enabled"})
    await job(hooks.client)
    await hooks.settle()
    assert len(receiver.received) == 2 and receiver.received[-1].verified_by == [endpoint["secret"]]


async def test_a_rotated_secret_signs_beside_the_new_one_for_24_hours(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    old = endpoint["secret"]
    path = f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"
    rotated = await post(hooks.client, path, None, 200, **{"Idempotency-Key": "rotate-1"})
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != old
    assert parse_time(rotated["previousSecretExpiresAt"]) == hooks.clock.now + timedelta(hours=24)
    replayed = await post(hooks.client, path, None, 200, **{"Idempotency-Key": "rotate-1"})
    assert replayed["secret"] is None  # shown once
    receiver.secrets.append(new)

    await job(hooks.client)
    await hooks.settle()
    during = receiver.received[-1]
    assert len(during.signatures) == 2 and set(during.verified_by) == {old, new}

    await hooks.later(hours=23, minutes=59)
    await job(hooks.client)
    await hooks.settle()
    assert set(receiver.received[-1].verified_by) == {old, new}

    await hooks.later(minutes=1)
    await job(hooks.client)
    await hooks.settle()
    after = receiver.received[-1]
    assert len(after.signatures) == 1 and after.verified_by == [new]


async def test_three_days_of_failures_disable_the_endpoint_and_the_board_says_so(
    hooks: Hooks, receiver: Receiver
) -> None:
    receiver.default = 503
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()
    started = hooks.clock.now
    for _ in range(rules.MAX_ATTEMPTS - 1):
        [pending] = await hooks.deliveries(endpoint["id"])
        assert pending["status"] == "pending"
        hooks.clock.now = parse_time(pending["nextAttemptAt"])
        await hooks.settle()
    [failed] = await hooks.deliveries(endpoint["id"])
    assert (failed["status"], failed["attempts"]) == ("failed", rules.MAX_ATTEMPTS)
    assert len(receiver.received) == rules.MAX_ATTEMPTS and len(set(receiver.ids())) == 1
    assert all(d.verified_by == [endpoint["secret"]] for d in receiver.received)
    spent = hooks.clock.now - started
    assert timedelta(days=3) < spent < timedelta(days=3, hours=12)  # 75 h 35 min and the jitter
    shown = await get(hooks.client, f"/v1/webhook-endpoints/{endpoint['id']}")
    assert (shown["status"], shown["disabledReason"]) == ("disabled", "failing")

    board = await get(hooks.client, "/v1/dispatch/board")
    [off] = board["disabledWebhookEndpoints"]
    assert off["id"] == endpoint["id"] and off["disabledReason"] == "failing"
    await log_in(hooks.client)
    page = await hooks.client.get("/dispatch")
    assert "Webhooks switched off" in page.text and f'href="/dispatch/webhooks/{endpoint["id"]}"' in page.text


async def test_a_success_in_between_keeps_the_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    """Disabled only when every delivery failed for 3 days, not when some did."""
    receiver.default = 500
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()
    await hooks.later(days=2)
    receiver.answers.append(200)
    await job(hooks.client)
    await hooks.settle()
    await hooks.later(days=2)
    shown = await get(hooks.client, f"/v1/webhook-endpoints/{endpoint['id']}")
    assert shown["status"] == "enabled"


async def test_a_jobs_events_reach_each_endpoint_in_order(hooks: Hooks, receiver: Receiver) -> None:
    steady = Receiver(secrets=[])
    try:
        receiver.answers.append(500)  # the first event to `receiver` fails once
        first = await hooks.endpoint(receiver, ["job.created", "job.status_changed"])
        await hooks.endpoint(steady, ["job.created", "job.status_changed"])
        work = await job(hooks.client)
        await api(hooks.client, "PATCH", f"/v1/jobs/{work['id']}", {"version": 1, "status": "dispatched"})
        other = await job(hooks.client)
        await hooks.settle()

        # The other endpoint and the other job do not wait; this job's later event does.
        assert [d.type for d in steady.received] == ["job.created", "job.status_changed", "job.created"]
        assert [(d.type, d.payload["data"]["id"]) for d in receiver.received] == [
            ("job.created", work["id"]),
            ("job.created", other["id"]),
        ]
        waiting = {d["type"]: d for d in await hooks.deliveries(first["id"], status="pending")}
        assert set(waiting) == {"job.created", "job.status_changed"}
        assert waiting["job.status_changed"]["attempts"] == 0

        await hooks.later(seconds=6)
        assert [(d.type, d.payload["data"]["id"]) for d in receiver.received[2:]] == [
            ("job.created", work["id"]),
            ("job.status_changed", work["id"]),
        ]
        assert all(d.verified_by for d in receiver.received)
    finally:
        steady.close()


async def test_the_office_sends_a_delivery_again(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await job(hooks.client)
    await hooks.settle()
    [delivery] = await hooks.deliveries(endpoint["id"])
    again = await post(hooks.client, f"/v1/webhook-deliveries/{delivery['id']}/retry", None, 200)
    assert again["status"] == "pending"
    await hooks.settle()
    one, two = receiver.received
    assert one.id == two.id and two.verified_by == [endpoint["secret"]]
    [shown] = await hooks.deliveries(endpoint["id"])
    assert (shown["status"], shown["attempts"]) == ("delivered", 2)
    missing = await api(hooks.client, "POST", "/v1/webhook-deliveries/whd_nothing/retry")
    assert missing.status_code == 404


async def test_an_endpoint_receives_only_what_happens_after_it_is_made(hooks: Hooks, receiver: Receiver) -> None:
    before = await job(hooks.client)
    await hooks.endpoint(receiver, ["*"])
    after = await job(hooks.client)
    await order(hooks.client, before["id"], item("Capacitor", 4500, kind="addon"))
    await hooks.settle()
    assert [d.type for d in receiver.received] == ["job.created", "order.created"]
    assert receiver.received[0].payload["data"]["id"] == after["id"]
    assert all(d.verified_by for d in receiver.received)


async def test_endpoints_are_listed_changed_and_deleted(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    listed = await get(hooks.client, "/v1/webhook-endpoints")
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert "secret" not in listed["data"][0]
    changed = await api(hooks.client, "PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"events": ["order.created"]})
    assert changed.status_code == 200 and changed.json()["events"] == ["order.created"]
    await job(hooks.client)  # no longer asked for
    await hooks.settle()
    assert receiver.received == []
    off = await api(hooks.client, "PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "disabled"})
    assert (off.json()["status"], off.json()["disabledReason"]) == ("disabled", "office")
    gone = await api(hooks.client, "DELETE", f"/v1/webhook-endpoints/{endpoint['id']}")
    assert gone.status_code == 204
    assert (await api(hooks.client, "GET", f"/v1/webhook-endpoints/{endpoint['id']}")).status_code == 404
    unknown = await api(hooks.client, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": ["job.made"]})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_event_type")
    assert "job.made" in unknown.json()["detail"]


async def test_a_replayed_create_shows_no_secret(hooks: Hooks, receiver: Receiver) -> None:
    body = {"url": receiver.url, "events": ["*"], "description": "Dispatch app"}
    headers = {**OFFICE, "Idempotency-Key": "endpoint-1"}
    first = await hooks.client.post("/v1/webhook-endpoints", json=body, headers=headers)
    again = await hooks.client.post("/v1/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.headers["location"] == f"/v1/webhook-endpoints/{first.json()['id']}"
    assert first.json()["secret"].startswith("whsec_")
    assert again.json() == {**first.json(), "secret": None} and again.headers["idempotent-replayed"] == "true"


async def test_money_shown_to_a_receiver_is_the_apis(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.endpoint(receiver, ["order.line_item_added"])
    work = await job(hooks.client)
    made = await order(hooks.client, work["id"], item("Diagnostic visit", 8900))
    await post(hooks.client, f"/v1/orders/{made['id']}/line-items", {"lineItems": [item("Capacitor", 4500)]}, 200)
    await hooks.settle()
    [added] = receiver.received
    assert added.payload["data"] == await get(hooks.client, f"/v1/orders/{made['id']}")
    assert added.payload["data"]["totalMoney"] == usd(13400)


async def test_the_worker_wakes_for_the_next_retry_while_a_jobs_later_event_waits(
    hooks: Hooks, receiver: Receiver
) -> None:
    woken: list[str] = []
    hooks.running.worker.wake_at = woken.append
    receiver.answers.append(500)
    endpoint = await hooks.endpoint(receiver, ["job.created", "job.status_changed"])
    work = await job(hooks.client)
    await api(hooks.client, "PATCH", f"/v1/jobs/{work['id']}", {"version": 1, "status": "dispatched"})
    await hooks.settle()
    waiting = {d["type"]: d for d in await hooks.deliveries(endpoint["id"])}
    assert waiting["job.status_changed"]["attempts"] == 0  # due, but behind the job's first event
    assert woken[-1] == waiting["job.created"]["nextAttemptAt"]  # so the wake is for the retry
