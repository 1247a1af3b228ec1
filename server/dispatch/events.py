"""The live event stream: every trail event as a server-sent event, within a moment of its commit.

`trail.service.record` asks, inside the transaction that writes an event, to notify
`trail.service.TOPIC`; the store runs that hook once the commit is on disk, and `TrailFeed`
wakes every open stream. A stream never takes events from the notification itself: it reads
`trail_events` past the last `seq` it sent. So the replay after `Last-Event-ID` and the live
part are one loop, and an event committed while a stream is reading is found by its next read.

    event: trail
    id: 42
    data: {"jobId": "job_…", "seq": 42, "type": "payment.captured", "at": "…", "actor": {…}}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial

import msgspec
from litestar.response import ServerSentEvent, ServerSentEventMessage

from server.dispatch.types import TrailNotice
from server.errors import FieldError, InvalidRequest
from server.store import Database, Row
from server.trail import store as trail_store
from server.wire import Actor

KEEP_ALIVE = 15.0  # seconds of quiet before a comment line, so proxies keep the connection open
RETRY_MS = 2000  # how soon a browser reconnects after the connection drops
BATCH = 500
MAX_SEQ_DIGITS = 18

_encode = msgspec.json.Encoder().encode


class TrailFeed:
    """Wakes every open stream when a transaction that wrote trail events has committed."""

    def __init__(self) -> None:
        self._waiting: set[asyncio.Event] = set()
        self.closed = False

    def wake(self) -> None:
        for event in self._waiting:
            event.set()

    def close(self) -> None:
        """The server is stopping: each stream ends after what it has to send."""
        self.closed = True
        self.wake()

    @contextmanager
    def listen(self) -> Iterator[asyncio.Event]:
        woken = asyncio.Event()
        self._waiting.add(woken)
        try:
            yield woken
        finally:
            self._waiting.discard(woken)

    @property
    def listeners(self) -> int:
        return len(self._waiting)


def start_after(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream starts: after `Last-Event-ID` (a reconnect), else after `?after=` (a page
    that knows what it showed), else from now."""
    if last_event_id is None or not last_event_id.strip():
        return after
    text = last_event_id.strip()
    if not text.isdigit() or len(text) > MAX_SEQ_DIGITS:
        raise InvalidRequest(
            "Last-Event-ID must be the id of an event this stream sent",
            [FieldError("Last-Event-ID", "must be a whole number")],
        )
    return int(text)


def notice(row: Row) -> TrailNotice:
    return TrailNotice(
        job_id=row["job_id"],
        seq=row["seq"],
        type=row["type"],
        at=row["at"],
        actor=Actor(kind=row["actor_kind"], id=row["actor_id"]),
    )


async def stream(
    db: Database, feed: TrailFeed, after: int | None, keep_alive: float = KEEP_ALIVE
) -> AsyncIterator[ServerSentEventMessage]:
    with feed.listen() as woken:  # before the first read, so no commit after it goes unheard
        seq = after if after is not None else await db.read(trail_store.last_seq)
        yield ServerSentEventMessage(comment="connected", data=None, retry=RETRY_MS)
        while not feed.closed:
            woken.clear()
            rows = await db.read(partial(trail_store.after, seq=seq, limit=BATCH))
            for row in rows:
                seq = row["seq"]
                yield ServerSentEventMessage(event="trail", id=seq, data=_encode(notice(row)).decode())
            if len(rows) == BATCH:
                continue
            try:
                await asyncio.wait_for(woken.wait(), keep_alive)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive", data=None)


def response(db: Database, feed: TrailFeed, after: int | None) -> ServerSentEvent:
    return ServerSentEvent(stream(db, feed, after), headers={"Cache-Control": "no-store"})
