"""`GET /v1/dispatch/events`: every trail event within a second of its commit, and a reconnect
with `Last-Event-ID` gets exactly what it missed. Against a real `flint serve`, since a live
stream beside other requests is what the test client cannot do."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from server.dispatch.events import TrailFeed, stream
from server.store import Database, Tx
from server.trail import service as trail
from server.wire import Actor
from tests.conftest import OFFICE
from tests.helpers import item
from tests.process import ServerProcess

KEY = "events-office-key-0123456789abcdefghij"
AUTH = {"Authorization": f"Bearer {KEY}"}


class EventStream:
    """A server-sent event stream read on a thread: each message (comments included) as a dict,
    stamped with when it arrived."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                message: dict[str, Any] = {}
                for line in response.iter_lines():
                    if line == "":
                        if message:
                            self.messages.put({**message, "arrived": time.monotonic()})
                        message = {}
                    elif line.startswith(":"):
                        message["comment"] = line[1:].strip()
                    else:
                        field, _, value = line.partition(":")
                        message[field] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        finally:
            self.messages.put(None)

    def next(self, timeout: float = 5) -> dict[str, Any]:
        message = self.messages.get(timeout=timeout)
        assert message is not None, "the stream ended"
        return message

    def next_event(self, timeout: float = 5) -> dict[str, Any]:
        """The next `event: trail`, skipping comments."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if "event" in message:
                return message

    def close(self) -> None:
        self._client.close()


def _job(api: httpx.Client) -> dict[str, Any]:
    who = api.post("/v1/customers", json={"name": "Maria Alvarez", "phone": "+15555550101", "kind": "residential"})
    made = api.post("/v1/jobs", json={"customerId": who.json()["id"], "title": "AC not cooling", "address": "1 Main"})
    return dict(made.json())


def test_each_event_arrives_within_a_second_of_its_commit(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as api,
    ):
        job = _job(api)
        events = EventStream(server.url + "/v1/dispatch/events", AUTH)
        try:
            hello = events.next()
            assert (hello["comment"], hello["retry"]) == ("connected", "2000")
            assert events.status == 200

            for status in ("dispatched", "en_route", "on_site"):
                version = api.get(f"/v1/jobs/{job['id']}").json()["version"]
                asked = time.monotonic()
                changed = api.patch(f"/v1/jobs/{job['id']}", json={"version": version, "status": status})
                assert changed.status_code == 200
                message = events.next_event()
                assert message["arrived"] - asked < 1.0  # the commit came after `asked`
                data = json.loads(message["data"])
                assert message["event"] == "trail"
                assert int(message["id"]) == data["seq"]
                last = api.get(f"/v1/jobs/{job['id']}/trail").json()["events"][-1]
                assert data == {
                    "jobId": job["id"],
                    "seq": last["seq"],
                    "type": "job.status_changed",
                    "at": last["at"],
                    "actor": {"kind": "office", "id": "office"},
                }
        finally:
            events.close()


def _texts_settled(api: httpx.Client, job_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = api.get("/v1/sms", params={"jobId": job_id}).json()["data"]
        if texts and all(t["status"] == "delivered" for t in texts):
            return
        time.sleep(0.05)
    raise AssertionError(f"the texts of {job_id} did not settle")


def test_a_reconnect_with_last_event_id_gets_exactly_what_it_missed(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as api,
    ):
        job = _job(api)
        first = EventStream(server.url + "/v1/dispatch/events", AUTH)
        first.next()
        api.patch(f"/v1/jobs/{job['id']}", json={"version": job["version"], "status": "dispatched"})
        seen = int(first.next_event()["id"])
        first.close()

        # While nobody listens: an order, cash against it, a note on another job.
        order = api.post(
            "/v1/orders", json={"lineItems": [item("Diagnostic", 8900)], "metadata": {"jobId": job["id"]}}
        ).json()
        api.post("/v1/payments", json={"orderId": order["id"], "amountMoney": _usd(2000), "method": "cash"})
        _texts_settled(api, job["id"])  # the cash's receipt, delivered: its events are on the trail
        other = _job(api)
        missed = [
            e["seq"]
            for j in (job, other)
            for e in api.get(f"/v1/jobs/{j['id']}/trail").json()["events"]
            if e["seq"] > seen
        ]
        assert len(missed) >= 3

        again = EventStream(server.url + "/v1/dispatch/events", {**AUTH, "Last-Event-ID": str(seen)})
        try:
            again.next()
            replayed = [int(again.next_event()["id"]) for _ in missed]
            assert replayed == sorted(missed)
            # Then live, with nothing sent twice: the next event is the next change.
            api.patch(f"/v1/jobs/{other['id']}", json={"version": other["version"], "status": "cancelled"})
            live = json.loads(again.next_event()["data"])
            assert (live["jobId"], live["type"], live["seq"]) == (other["id"], "job.status_changed", max(missed) + 1)
        finally:
            again.close()


def test_a_stop_ends_the_open_streams(tmp_path: Path) -> None:
    """An open board must not hold the server up when it is asked to stop."""
    server = ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}).start()
    events = EventStream(server.url + "/v1/dispatch/events", AUTH)
    try:
        events.next()
        asked = time.monotonic()
        server.stop()  # SIGINT, as Ctrl+C; it would be killed after 10 seconds
        assert server.proc is not None and server.proc.returncode == 0
        assert time.monotonic() - asked < 5
        assert events.messages.get(timeout=5) is None  # the stream ended
    finally:
        events.close()
        server.kill()


def _usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


async def test_a_bad_last_event_id_is_refused(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/v1/dispatch/events", headers={**OFFICE, "Last-Event-ID": "yesterday"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_request")


def parse(chunk: bytes) -> list[dict[str, str]]:
    """The server-sent events in a chunk of the stream, each as its fields (`comment` for a
    comment line)."""
    found = []
    for block in chunk.decode().split("\r\n\r\n"):
        fields: dict[str, str] = {}
        for line in block.split("\r\n"):
            if line.startswith(":"):
                fields["comment"] = line[1:].strip()
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            found.append(fields)
    return found


async def next_one(messages: Any) -> dict[str, str]:
    [one] = parse(await anext(messages))
    return one


async def next_event(messages: Any) -> dict[str, str]:
    """The next event, past the keep-alive comments of a quiet moment."""
    while "event" not in (found := await next_one(messages)):
        pass
    return found


async def test_the_stream_replays_follows_keeps_alive_and_ends(tmp_path: Path) -> None:
    db = Database(tmp_path / "flint.db")
    await db.open()
    feed = TrailFeed()
    db.listeners.add(trail.TOPIC, feed.wake)

    def event(tx: Tx, kind: str) -> int:
        return trail.record(tx, kind, Actor(kind="system", id="test"), {"n": uuid.uuid4().hex}, job_id=None)

    try:
        before = await db.write(partial(event, kind="a.before"))
        await feed.start(db)
        messages = stream(feed, after=0, keep_alive=0.05)
        assert await next_one(messages) == {"comment": "connected", "retry": "2000"}
        replayed = await next_one(messages)
        assert (replayed["event"], int(replayed["id"])) == ("trail", before)
        assert (await next_one(messages))["comment"] == "keep-alive"  # quiet: a comment, not silence
        waiting = next_event(messages)
        after = await db.write(partial(event, kind="b.after"))
        live = await waiting
        assert (int(live["id"]), json.loads(live["data"])["type"]) == (after, "b.after")
        assert feed.listeners == 1
        feed.stop()
        rest = [m for chunk in [c async for c in messages] for m in parse(chunk)]
        assert all("event" not in m for m in rest)
        assert feed.listeners == 0
    finally:
        await feed.close()
        await db.close()
