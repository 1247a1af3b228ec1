"""The outbox worker: claims due messages, sends them through Twilio, records what happened.

It is woken by commits that queue a message, by its own retry times (an APScheduler date job
at the next due time), and by a slow safety tick; what is due always comes from the table.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from typing import Protocol
from urllib.parse import urlencode

from server.clock import parse_time
from server.messages import service as outbox
from server.store import Database
from sms.sender import Sender

log = logging.getLogger("flint.sms")

RECONCILE_SKEW = timedelta(seconds=60)  # clocks differ; look a little before the claim
MARKER = "message"


def marked(status_callback: str, message_id: str) -> str:
    """The callback URL with the message's own id, so its callbacks name it even when the
    answer to the send never came back."""
    return f"{status_callback}?{urlencode({MARKER: message_id})}"


class Wake(Protocol):
    def __call__(self, when: str) -> None: ...


class SmsWorker:
    def __init__(self, db: Database, sender: Sender, status_callback: str, retry_base: float) -> None:
        self.db = db
        self.sender = sender
        self.status_callback = status_callback
        self.retry_base = retry_base
        self.wake_at: Wake | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._again = False

    def kick(self) -> None:
        """Run soon; a kick during a run makes the run look again before it ends."""
        if self._lock.locked():
            self._again = True
            return
        task = asyncio.get_running_loop().create_task(self.run_due())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self) -> int:
        return await self.db.write(outbox.recover)

    async def run_due(self) -> None:
        async with self._lock:
            while True:
                self._again = False
                due = await self.db.read(outbox.due)
                for row in due:
                    try:
                        await self._process(row["id"])
                    except Exception:
                        log.exception("text %s could not be processed; it stays in the outbox", row["id"])
                if not due and not self._again:
                    break
            when = await self.db.read(outbox.next_due_at)
        if when is not None and self.wake_at is not None:
            self.wake_at(when)

    async def _process(self, message_id: str) -> None:
        step, row = await self.db.write(partial(outbox.claim, message_id=message_id))
        if step == "reconcile":
            since = parse_time(row["claimed_at"] or row["created_at"]) - RECONCILE_SKEW
            taken = await self.db.read(partial(outbox.taken_sids, message_id=message_id))
            try:
                found = await self.sender.find(row["to_number"], row["body"], since, taken)
            except Exception as exc:
                log.warning("could not ask Twilio about text %s (%s); asking again later", message_id, exc)
                await self.db.write(partial(outbox.still_in_doubt, message_id=message_id, retry_base=self.retry_base))
                return
            step = await self.db.write(
                partial(
                    outbox.reconciled,
                    message_id=message_id,
                    sid=found.sid if found else None,
                    provider_status=found.provider_status if found else None,
                )
            )
        if step != "send":
            return
        result = await self.sender.send(row["to_number"], row["body"], marked(self.status_callback, message_id))
        if result.kind != "accepted":
            log.info(
                "text %s: %s (HTTP %s, code %s) %s",
                message_id,
                result.kind,
                result.http_status,
                result.error_code,
                result.detail,
            )
        record = partial(outbox.record, message_id=message_id, result=result, retry_base=self.retry_base)
        await self.db.write(record)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
