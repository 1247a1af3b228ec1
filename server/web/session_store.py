"""The sessions store Litestar's server-side session middleware uses, backed by the Flint store
(`server/store/sessions.py`), so a dispatcher stays logged in across a restart of the server.

A session is renewed on access (the session config asks for it), but written only when the new
expiry is at least `RENEW_STEP` later than the kept one: a page view is a read, not a write."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from litestar.stores.base import Store

from server.clock import format_time, parse_time
from server.store import Database, Tx
from server.store import sessions as store

RENEW_STEP = timedelta(minutes=10)


def _seconds(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class SessionStore(Store):
    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self.db = db
        self.lifetime = lifetime

    def _until(self, expires_in: int | timedelta | None) -> str:
        return format_time(parse_time(self.db.now()) + (_seconds(expires_in) or self.lifetime))

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await self.db.write(partial(store.put, session_id=key, data=data, expires_at=self._until(expires_in)))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await self.db.read(partial(store.get, session_id=key))
        if row is None:
            return None
        if renew_for is not None:
            until = self._until(renew_for)
            if parse_time(until) - parse_time(row["expires_at"]) >= RENEW_STEP:
                await self.db.write(partial(store.renew, session_id=key, expires_at=until))
        return bytes(row["data"])

    async def delete(self, key: str) -> None:
        await self.db.write(partial(store.delete, session_id=key))

    async def delete_all(self) -> None:
        await self.db.write(store.delete_all)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await self.db.read(partial(store.get, session_id=key))
        if row is None:
            return None
        return max(0, int((parse_time(row["expires_at"]) - parse_time(self.db.now())).total_seconds()))


def purge(tx: Tx) -> int:
    return store.purge_expired(tx)
