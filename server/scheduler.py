"""Timed work. APScheduler only ticks; what is due lives in the project's own tables, so a
restart or a second look never does anything twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server.clock import parse_time
from server.messages import service as outbox
from server.store import Database, changelog
from server.web import session_store
from server.web.idempotency import purge_expired
from server.webhooks import service as webhooks

log = logging.getLogger("flint.scheduler")
# Each tick would log twice at INFO; a tick is not news. Its failures still are (WARNING and up).
logging.getLogger("apscheduler").setLevel(logging.WARNING)

# A tick that comes late (a busy loop, a suspended laptop) still runs, once.
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
PURGE_EARLY_CALLBACKS = "purge_early_callbacks"
PURGE_EVENTS = "purge_events"  # events after 30 days, with their deliveries; secrets rotated out


class Scheduler:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)

    def every(
        self, seconds: float, name: str, task: Callable[[], Awaitable[object]], *, at_start: bool = False
    ) -> None:
        """Run `task` every `seconds`; with `at_start`, also as soon as the scheduler starts (work
        a stopped server missed is caught up at once, not a tick later)."""

        async def tick() -> None:
            try:
                await task()
            except Exception:
                log.exception("scheduled task %s failed; it runs again at its next tick", name)

        first = {"next_run_time": datetime.now(UTC)} if at_start else {}
        self._scheduler.add_job(tick, "interval", seconds=seconds, id=name, name=name, **first)

    def at(self, when: str, name: str, task: Callable[[], Awaitable[object]]) -> None:
        """Run `task` once at `when` (RFC 3339), replacing an earlier `at` of the same name."""

        async def once() -> None:
            try:
                await task()
            except Exception:
                log.exception("scheduled task %s failed", name)

        run_date = max(parse_time(when), datetime.now(UTC))
        self._scheduler.add_job(once, "date", run_date=run_date, id=name, name=name, replace_existing=True)

    def start(self) -> None:
        self.every(3600, "purge_idempotency_keys", lambda: self.db.write(purge_expired))
        self.every(3600, "purge_change_log", lambda: self.db.write(changelog.purge_old))
        self.every(3600, "purge_web_sessions", lambda: self.db.write(session_store.purge))
        self.every(3600, PURGE_EARLY_CALLBACKS, lambda: self.db.write(outbox.purge_early_callbacks))
        self.every(3600, PURGE_EVENTS, lambda: self.db.write(webhooks.purge_old))
        self._scheduler.start()

    async def run_now(self, name: str) -> None:
        """Run a scheduled task at once, as its tick would."""
        job = self._scheduler.get_job(name)
        if job is None:
            raise KeyError(name)
        await job.func()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
