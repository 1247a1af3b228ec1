"""Webhooks against a real `flint serve`: a delivery cut short by SIGKILL is delivered after the
restart with the same `webhook-id`; a dead endpoint delays neither a healthy one, nor texts, nor
the requests that cause events (measured); the feed pages through a thousand events without a
skip or a repeat while new ones are written."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import item, usd
from tests.process import ServerProcess, doctor
from tests.sms.conftest import wait_for, when
from tests.webhooks.receiver import HOLD, DeadEndpoint, Receiver

KEY = "webhooks-office-key-0123456789abcdef"
ENV = {"FLINT_API_KEY": KEY, "FLINT_WEBHOOK_ALLOW_PRIVATE": "1"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "flint.db", ENV) as running:
        yield running


def _api(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)


def _endpoint(api: httpx.Client, receiver_url: str, events: list[str]) -> dict[str, Any]:
    made = api.post("/v1/webhook-endpoints", json={"url": receiver_url, "events": events})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _job(api: httpx.Client, phone: str = "+15125550143") -> dict[str, Any]:
    who = api.post("/v1/customers", json={"name": "Dana Whitfield", "phone": phone, "kind": "residential"}).json()
    made = api.post("/v1/jobs", json={"customerId": who["id"], "title": "AC not cooling", "address": "1402 Elm St"})
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_killed_mid_delivery_it_is_delivered_after_the_restart_with_the_same_id(tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.answers.append(HOLD)  # the first attempt reaches the receiver, which does not answer
    server = ServerProcess(tmp_path / "flint.db", ENV).start()
    try:
        with _api(server) as api:
            endpoint = _endpoint(api, receiver.url, ["payment.recorded"])
            receiver.secrets.append(endpoint["secret"])
            work = _job(api)
            order = api.post(
                "/v1/orders", json={"lineItems": [item("Diagnostic visit", 8900)], "metadata": {"jobId": work["id"]}}
            ).json()
            paid = api.post("/v1/payments", json={"orderId": order["id"], "amountMoney": usd(8900), "method": "cash"})
            assert paid.status_code == 201
            [held] = receiver.wait_for(1)

        server.kill()  # mid-delivery: the attempt is claimed, its outcome never recorded
        receiver.released.set()
        server = ServerProcess(server.db_path, ENV, port=server.port).start()

        with _api(server) as api:
            first, again = receiver.wait_for(2)
            assert first.id == again.id == held.id and first.body == again.body
            assert first.verified_by == again.verified_by == [endpoint["secret"]]
            assert again.payload["data"] == api.get(f"/v1/payments/{paid.json()['id']}").json()
            [delivery] = wait_for(
                lambda: when(
                    api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries").json()["data"],
                    lambda found: found[0]["status"] == "delivered",
                ),
                what="the delivery to be recorded",
            )
            assert (delivery["attempts"], delivery["eventId"]) == (2, held.id)
        time.sleep(0.3)
        assert len(receiver.received) == 2
    finally:
        server.stop()
        receiver.close()
    checked = doctor(tmp_path / "flint.db")
    assert checked.returncode == 0, checked.stdout


def _latencies(api: httpx.Client, healthy: Receiver, jobs: int) -> tuple[list[float], list[float]]:
    """(each request's time, each event's time from the request's answer to its arrival)."""
    requests, arrivals = [], []
    for _ in range(jobs):
        before = len(healthy.received)
        started = time.monotonic()
        _job(api)
        answered = time.monotonic()
        requests.append(answered - started)
        # The job's customer and job are one event each for `job.created`: wait for this one.
        delivered = healthy.wait_for(before + 1, timeout=10)[before]
        arrivals.append(max(0.0, delivered.at - answered))
    return requests, arrivals


def test_a_dead_endpoint_delays_no_one_else(server: ServerProcess) -> None:
    healthy, dead = Receiver(), DeadEndpoint()
    try:
        with _api(server) as api:
            healthy.secrets.append(_endpoint(api, healthy.url, ["job.created"])["secret"])
            alone_requests, alone = _latencies(api, healthy, 12)

            _endpoint(api, dead.url, ["*"])  # every event, and it never answers: 10 s each attempt
            beside_requests, beside = _latencies(api, healthy, 12)
            assert len(dead.held) >= 4  # its lane is full of attempts waiting out their timeout

            # A text goes out as quickly while the dead endpoint holds its lane.
            who = api.post("/v1/customers", json={"name": "Ann Lee", "phone": "+15125550178", "kind": "commercial"})
            job = api.post(
                "/v1/jobs", json={"customerId": who.json()["id"], "title": "No heat", "address": "90 Oakridge Ct"}
            ).json()
            order = api.post(
                "/v1/orders", json={"lineItems": [item("Boiler service", 32000)], "metadata": {"jobId": job["id"]}}
            ).json()
            link = api.post("/v1/payment-links", json={"name": "Boiler service", "orderId": order["id"]}).json()
            asked = time.monotonic()
            text = api.post(f"/v1/payment-links/{link['id']}/send-sms", json={}).json()
            wait_for(
                lambda: when(api.get(f"/v1/sms/{text['id']}").json(), lambda m: m["status"] in ("sent", "delivered")),
                timeout=5,
                what="the text to go out",
            )
            text_seconds = time.monotonic() - asked
    finally:
        healthy.close()
        dead.close()

    assert all(d.verified_by for d in healthy.received)
    print(  # the figures, for the record (`pytest -s`)
        f"\nhealthy endpoint, alone: median {statistics.median(alone) * 1000:.0f} ms, max {max(alone) * 1000:.0f} ms;"
        f" beside a dead one: median {statistics.median(beside) * 1000:.0f} ms, max {max(beside) * 1000:.0f} ms;"
        f" requests alone: max {max(alone_requests) * 1000:.0f} ms, beside: max {max(beside_requests) * 1000:.0f} ms;"
        f" a text sent in {text_seconds * 1000:.0f} ms"
    )
    # An attempt to the dead endpoint takes 10 s; none of that reaches the healthy endpoint's
    # deliveries, the requests, or the text.
    assert max(beside) < 1.5 and statistics.median(beside) < statistics.median(alone) + 0.25
    assert max(beside_requests) < 1.5
    assert text_seconds < 3


def test_the_feed_pages_through_a_thousand_events_while_new_ones_are_written(server: ServerProcess) -> None:
    with _api(server) as api:
        work = _job(api)

        def lines(api: httpx.Client, count: int) -> int:
            """`count` events: a fresh order (so each stays small to render) and its added lines."""
            made = api.post(
                "/v1/orders", json={"lineItems": [item("Panel upgrade", 250000)], "metadata": {"jobId": work["id"]}}
            )
            batch = {"lineItems": [item(f"Breaker {i}", 1200) for i in range(count - 1)]}
            assert api.post(f"/v1/orders/{made.json()['id']}/line-items", json=batch).status_code == 200
            return count

        for _ in range(10):
            lines(api, 100)

        stop = threading.Event()
        written = [0]

        def write() -> None:
            with _api(server) as writer:
                while not stop.is_set():
                    written[0] += lines(writer, 10)

        thread = threading.Thread(target=write)
        thread.start()
        try:
            seen: list[str] = []
            cursor = None
            while len(seen) < 1000 or written[0] < 200:
                params: dict[str, Any] = {"limit": 37}
                if cursor is not None:
                    params["cursor"] = cursor
                elif seen:
                    params["after"] = seen[-1]
                page = api.get("/v1/events", params=params).json()
                seen += [e["id"] for e in page["data"]]
                cursor = page["nextCursor"]
        finally:
            stop.set()
            thread.join(10)

        # Caught up once the writer stopped: the same events, in the same order, once each.
        while True:
            page = api.get("/v1/events", params={"limit": 200, "after": seen[-1]}).json()
            if not page["data"]:
                break
            seen += [e["id"] for e in page["data"]]
        whole: list[str] = []
        cursor = None
        while True:
            page = api.get("/v1/events", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
            whole += [e["id"] for e in page["data"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) and seen == whole
    assert len(whole) >= 1200
