"""The live event stream: every trail event as a server-sent event, within a moment of its
commit, at a cost to the API that does not grow with the streams open (contract §6, v3).

One `TrailFeed` per server process reads the trail for every stream: `trail.service.record`
asks, inside the transaction that writes an event, to notify `trail.service.TOPIC`; once the
commit is on disk the feed's one reader task reads what is new (one query, however many streams
are open), encodes each event once, keeps the last `REPLAY` of them in memory, and wakes every
stream, which sends from memory. A stream never reads the store. The feed wakes the streams at
most every `FLUSH` seconds, so a burst of events costs each stream one write, not one per event.

A reconnect (`Last-Event-ID`, or `?after=`) replays from memory what it missed, at most `REPLAY`
events; one further behind (or naming an event this store never had) gets `event: reset`, with
the trail's last `seq` as its id and data, and follows on from there: its client reads the
state again (the board) rather than replaying history. A stream that falls that far behind
while open is reset the same way.

    event: trail
    id: 42
    data: {"jobId": "job_…", "seq": 42, "type": "payment.captured", "at": "…", "actor": {…}}

A stream opened by a browser session ends when that session does: at once on logout
(`end_session`), and at its next quiet tick (15 s) if the session expired meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from bisect import bisect_right
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import msgspec
from litestar.response import ServerSentEventMessage, Stream

from server.dispatch.types import TrailNotice
from server.errors import FieldError, InvalidRequest
from server.store import Database, Row
from server.trail import store as trail_store
from server.wire import Actor

log = logging.getLogger("flint.dispatch")

KEEP_ALIVE = 15.0  # seconds of quiet before a comment line, so proxies keep the connection open
RETRY_MS = 2000  # how soon a browser reconnects after the connection drops
REPLAY = 1000  # events a reconnect may replay; further behind, it is reset
BATCH = 500  # events the feed reads at a time
FLUSH = 0.2  # seconds at least between two wakings of the streams: a burst is sent as one write
MAX_SEQ_DIGITS = 18
CATCH_UP = 5.0  # seconds a stream waits for the feed to read what a page just saw

_encode = msgspec.json.Encoder().encode

StillValid = Callable[[], Awaitable[bool]]


@dataclass(eq=False)
class Listener:
    """One open stream, as the feed sees it."""

    session: str | None = None
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False


class TrailFeed:
    """Reads new trail events once for every open stream, and keeps the last `REPLAY` of them."""

    def __init__(self, replay: int = REPLAY) -> None:
        self.replay = replay
        self._listeners: set[Listener] = set()
        self._seqs: list[int] = []
        self._chunks: list[bytes] = []  # each event encoded once, for every stream
        self._complete_after = 0  # every event past this seq is in memory
        self.last_seq = 0
        self.closed = False
        self._db: Database | None = None
        self._pending = asyncio.Event()
        self._idle = asyncio.Event()  # nothing committed is left unread
        self._reader: asyncio.Task[None] | None = None

    async def start(self, db: Database) -> None:
        """Load the last `REPLAY` events, then follow the trail on one task."""
        self._db = db
        rows = await db.read(partial(trail_store.last_events, limit=self.replay))
        self._append(rows)
        self.last_seq = await db.read(trail_store.last_seq)
        self._complete_after = rows[0]["seq"] - 1 if len(rows) == self.replay else 0
        if not self._pending.is_set():
            self._idle.set()
        self._reader = asyncio.create_task(self._follow(), name="trail-feed")

    def wake(self) -> None:
        """After a commit that wrote trail events (a store listener): read them."""
        self._idle.clear()
        self._pending.set()

    async def caught_up(self) -> None:
        """Wait (at most `CATCH_UP` seconds) until what was committed before now has been read:
        a page that read the trail a moment ago may ask for events the feed is still reading."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CATCH_UP):
                await self._idle.wait()

    async def _follow(self) -> None:
        assert self._db is not None
        while not self.closed:
            await self._pending.wait()
            self._pending.clear()
            try:
                while True:
                    rows = await self._db.read(partial(trail_store.after, seq=self.last_seq, limit=BATCH))
                    self._append(rows)
                    if len(rows) < BATCH:
                        break
                self._notify()
            except Exception:
                # The streams wait for the next commit's read; nothing is lost, since each
                # read starts after the last event taken.
                log.exception("reading the trail for the event streams failed")
            if not self._pending.is_set():
                self._idle.set()
            if not self.closed:
                await asyncio.sleep(FLUSH)  # commits meanwhile are read together

    def _append(self, rows: list[Row]) -> None:
        for row in rows:
            seq = row["seq"]
            self._seqs.append(seq)
            message = ServerSentEventMessage(event="trail", id=seq, data=_encode(notice(row)).decode())
            self._chunks.append(message.encode())
            self.last_seq = max(self.last_seq, seq)
        if len(self._seqs) > 2 * self.replay:  # trimmed now and then: amortised O(1) per event
            cut = len(self._seqs) - self.replay
            self._complete_after = self._seqs[cut - 1]
            del self._seqs[:cut], self._chunks[:cut]

    def _notify(self) -> None:
        for listener in self._listeners:
            listener.woken.set()

    def since(self, seq: int) -> tuple[bytes, int] | None:
        """The events after `seq` as one chunk to send, and the last one's seq (`b""` and `seq`
        when there is none); None when that is more than `REPLAY` events, or reaches back past
        what memory holds, or names an event not yet made: a reset."""
        if seq > self.last_seq or seq < self._complete_after:
            return None
        start = bisect_right(self._seqs, seq)
        if len(self._seqs) - start > self.replay:
            return None
        if start == len(self._seqs):
            return b"", seq
        return b"".join(self._chunks[start:]), self._seqs[-1]

    def end_session(self, session: str) -> None:
        """A browser session logged out: its streams end now."""
        for listener in self._listeners:
            if listener.session == session:
                listener.ended = True
                listener.woken.set()

    async def close(self) -> None:
        self.stop()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def stop(self) -> None:
        """The server is stopping: each stream ends after what it has to send."""
        self.closed = True
        self._pending.set()
        self._notify()

    @contextmanager
    def listen(self, session: str | None = None) -> Iterator[Listener]:
        listener = Listener(session)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        return len(self._listeners)


def start_after(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream starts: after `Last-Event-ID` (a reconnect), else after `?after=` (a page
    that knows what it showed), else from now."""
    if last_event_id is None or not last_event_id.strip():
        return after
    text = last_event_id.strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_SEQ_DIGITS:
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


def reset(seq: int) -> bytes:
    return ServerSentEventMessage(event="reset", id=seq, data=_encode({"seq": seq}).decode()).encode()


CONNECTED = ServerSentEventMessage(comment="connected", data=None, retry=RETRY_MS).encode()
KEPT_ALIVE = ServerSentEventMessage(comment="keep-alive", data=None).encode()
STREAM_HEADERS = {"Cache-Control": "no-store", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


async def stream(
    feed: TrailFeed,
    after: int | None,
    keep_alive: float = KEEP_ALIVE,
    session: str | None = None,
    still_valid: StillValid | None = None,
) -> AsyncIterator[bytes]:
    """The stream's bytes: a comment when connected, then each waking's events as one chunk
    (encoded once by the feed for every stream), `event: reset` when too far behind, and a
    comment after `keep_alive` seconds of quiet."""
    with feed.listen(session) as listener:  # before the first look, so nothing after it goes unheard
        if after is not None and after > feed.last_seq:
            await feed.caught_up()
        seq = feed.last_seq if after is None else after
        yield CONNECTED
        while not feed.closed and not listener.ended:
            listener.woken.clear()
            backlog = feed.since(seq)
            if backlog is None:
                seq = feed.last_seq
                yield reset(seq)
                continue
            chunk, seq = backlog
            if chunk:
                yield chunk
                continue  # more may have come while it was sent
            try:
                async with asyncio.timeout(keep_alive):
                    await listener.woken.wait()
            except TimeoutError:
                if still_valid is not None and not await still_valid():
                    break  # the session expired or was ended elsewhere
                yield KEPT_ALIVE


def response(
    feed: TrailFeed, after: int | None, session: str | None = None, still_valid: StillValid | None = None
) -> Stream:
    """`text/event-stream`, written as Litestar's `ServerSentEvent` would, from chunks the feed
    encoded once."""
    return Stream(
        stream(feed, after, session=session, still_valid=still_valid),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )
