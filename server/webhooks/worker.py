"""The delivery worker: claims due deliveries, posts them, records what each attempt came to.

It is woken by commits that made deliveries (`service.TOPIC`), by its own retry times (an
APScheduler date job at the next due time) and by a slow sweep; what is due always comes from
the table. Each endpoint is a lane of its own with at most `PER_ENDPOINT` attempts in flight, and
nothing waits for another lane: a dead endpoint holds its own lane for its 10-second timeouts,
never another endpoint's deliveries, the text outbox or the request that caused the event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any, Protocol

from server.store import Database, Row
from server.webhooks import rules, service
from server.webhooks.sending import Sender

log = logging.getLogger("flint.webhooks")


class Wake(Protocol):
    def __call__(self, when: str) -> None: ...


class WebhookWorker:
    def __init__(self, db: Database, sender: Sender) -> None:
        self.db = db
        self.sender = sender
        self.wake_at: Wake | None = None
        self._lanes: dict[str, set[str]] = {}  # endpoint id -> deliveries in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._scanning: asyncio.Lock | None = None
        self._again = False
        self._closed = False

    def kick(self) -> None:
        """Look for due work soon; a kick during a look makes it look again before it ends."""
        if self._closed:
            return
        if self._scanning is not None and self._scanning.locked():
            self._again = True
            return
        self._spawn(self.run_due())

    async def recover(self) -> int:
        return await self.db.write(service.recover)

    async def run_due(self) -> None:
        if self._scanning is None:
            self._scanning = asyncio.Lock()
        async with self._scanning:
            while not self._closed:
                self._again = False
                for row in await self.db.read(service.due):
                    self._start(row)
                if not self._again:
                    break
            when = await self.db.read(service.next_due_at)
        if when is not None and self.wake_at is not None:
            self.wake_at(when)

    def _start(self, row: Row) -> None:
        lane = self._lanes.setdefault(row["endpoint_id"], set())
        if row["id"] in lane or len(lane) >= rules.PER_ENDPOINT:
            return
        lane.add(row["id"])
        self._spawn(self._deliver(row["endpoint_id"], row["id"]))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, endpoint_id: str, delivery_id: str) -> None:
        try:
            send = await self.db.write(partial(service.claim, delivery_id=delivery_id))
            if send is None:
                return
            attempt = await self.sender.post(send.endpoint_id, send.url, send.body, send.headers())
            if not attempt.delivered:
                log.info("webhook %s to endpoint %s: %s", delivery_id, endpoint_id, attempt.describe())
            await self.db.write(partial(service.record, delivery_id=delivery_id, attempt=attempt))
        except Exception:
            log.exception("webhook %s could not be processed; it stays in the outbox", delivery_id)
        finally:
            lane = self._lanes.get(endpoint_id)
            if lane is not None:
                lane.discard(delivery_id)
                if not lane:
                    del self._lanes[endpoint_id]
            self.kick()  # the lane has room, and the job's next event may go

    async def settle(self) -> None:
        """Run until nothing is in flight and nothing is due now (tests; a clock moved by hand)."""
        while not self._closed:
            await self.run_due()
            busy = [task for task in self._tasks if task is not asyncio.current_task()]
            if not busy:
                if not any(self._lanes.values()) and not await self.db.read(service.due):
                    return
                continue
            await asyncio.gather(*busy, return_exceptions=True)

    async def close(self) -> None:
        """Stop: attempts in flight are cancelled, and sent again at the next start."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.close()
