"""Open streams never starve the API (contract §6, v3): one reader per process feeds every open
stream (a commit costs one read however many are open), a reconnect replays at most 1,000 events
from memory and one further behind starts with `event: reset`, and logging out ends the
session's open streams. Figures under load are in `bench/streams.py`."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from server.dispatch.events import REPLAY, TrailFeed, stream
from server.store import Database, Tx
from server.trail import service as trail
from server.wire import Actor
from tests.dispatch.test_events import EventStream, next_one, parse
from tests.process import ServerProcess

T = TypeVar("T")
KEY = "stream-costs-office-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


def events(tx: Tx, count: int) -> int:
    seq = 0
    for _ in range(count):
        seq = trail.record(tx, "test.event", Actor(kind="system", id="test"), {"n": uuid.uuid4().hex}, job_id=None)
    return seq


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Database, TrailFeed]]:
    db = Database(tmp_path / "flint.db")
    await db.open()
    feed = TrailFeed()
    db.listeners.add(trail.TOPIC, feed.wake)
    await feed.start(db)
    try:
        yield db, feed
    finally:
        await feed.close()
        await db.close()


async def test_one_read_feeds_every_open_stream(store: tuple[Database, TrailFeed]) -> None:
    db, feed = store
    reads = 0
    read = db.read

    async def counted(unit: Callable[[Tx], T]) -> T:
        nonlocal reads
        reads += 1
        return await read(unit)

    db.read = counted  # type: ignore[method-assign]
    streams = [stream(feed, None, keep_alive=60) for _ in range(200)]
    for opened in streams:
        assert (await next_one(opened))["comment"] == "connected"
    waiting = [asyncio.ensure_future(anext(opened)) for opened in streams]
    await asyncio.sleep(0.01)
    seq = await db.write(partial(events, count=1))
    got = await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert len({id(chunk) for chunk in got}) == 1  # encoded once, the same bytes for every stream
    assert {(m["event"], int(m["id"])) for chunk in got for m in parse(chunk)} == {("trail", seq)}
    assert reads == 1  # the feed's one read, not one per stream
    for opened in streams:
        await opened.aclose()
    assert feed.listeners == 0


async def first_events(opened: Any, count: int) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    async with asyncio.timeout(5):
        async for chunk in opened:
            found += [message for message in parse(chunk) if "event" in message]
            if len(found) >= count:
                return found
    return found


async def test_a_reconnect_replays_at_most_a_thousand_events(store: tuple[Database, TrailFeed]) -> None:
    db, feed = store
    last = await db.write(partial(events, count=REPLAY + 50))
    await feed.caught_up()

    # Exactly a thousand behind: all of them, from memory, in order.
    within = await first_events(stream(feed, last - REPLAY), REPLAY)
    assert [int(m["id"]) for m in within] == list(range(last - REPLAY + 1, last + 1))

    # Further behind (a page left open overnight, a client from `after=0`): reset, then live.
    for after in (0, last - REPLAY - 1, last + 7):
        opened = stream(feed, after)
        [first] = await first_events(opened, 1)
        assert (first["event"], int(first["id"]), json.loads(first["data"])) == ("reset", last, {"seq": last})
        live = asyncio.ensure_future(first_events(opened, 1))
        await asyncio.sleep(0.01)
        newer = await db.write(partial(events, count=1))
        assert [(m["event"], int(m["id"])) for m in await live] == [("trail", newer)]
        last = newer
        await opened.aclose()


async def test_a_stream_that_falls_too_far_behind_is_reset(store: tuple[Database, TrailFeed]) -> None:
    db, feed = store
    opened = stream(feed, None, keep_alive=60)
    await anext(opened)
    last = await db.write(partial(events, count=REPLAY + 1))  # while this client read nothing
    await feed.caught_up()
    [first] = await first_events(opened, 1)
    assert (first["event"], int(first["id"])) == ("reset", last)
    await opened.aclose()


async def test_memory_stays_bounded(store: tuple[Database, TrailFeed]) -> None:
    db, feed = store
    for _ in range(5):
        await db.write(partial(events, count=REPLAY))
        await feed.caught_up()
    assert len(feed._chunks) <= 2 * REPLAY
    assert feed.since(feed.last_seq - REPLAY) is not None


def _log_in(browser: httpx.Client) -> str:
    token = re.search(r'name="_csrf_token" value="([^"]+)"', browser.get("/login").text)
    assert token
    assert browser.post("/login", data={"key": KEY, "_csrf_token": token.group(1)}).status_code == 303
    return token.group(1)


def test_logging_out_ends_the_sessions_open_streams(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url) as mine,
        httpx.Client(base_url=server.url) as theirs,
        httpx.Client(base_url=server.url, headers=AUTH) as api,
    ):
        token = _log_in(mine)
        _log_in(theirs)
        cookie = lambda client: "; ".join(f"{k}={v}" for k, v in client.cookies.items())  # noqa: E731
        my_stream = EventStream(server.url + "/dispatch/events", {"Cookie": cookie(mine)})
        their_stream = EventStream(server.url + "/dispatch/events", {"Cookie": cookie(theirs)})
        try:
            assert my_stream.next()["comment"] == "connected" and their_stream.next()["comment"] == "connected"
            out = mine.post("/logout", data={"_csrf_token": token})
            assert out.status_code == 303
            logged_out = time.monotonic()
            assert my_stream.messages.get(timeout=15) is None  # the stream ended
            assert time.monotonic() - logged_out < 15
            # Another session's stream goes on.
            who = api.post("/v1/customers", json={"name": "Ana", "phone": "+15555550100", "kind": "residential"})
            made = api.post("/v1/jobs", json={"customerId": who.json()["id"], "title": "Leak", "address": "1 Elm"})
            assert json.loads(their_stream.next_event()["data"])["jobId"] == made.json()["id"]
            assert mine.get("/dispatch/events").status_code == 401  # and no new one opens
        finally:
            my_stream.close()
            their_stream.close()
