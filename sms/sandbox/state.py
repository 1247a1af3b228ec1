"""What the sandbox remembers: like Twilio, it keeps the messages it took and who opted out,
in a file of its own when it is given one, so a restarted server still shows its texts."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from sms import policy
from sms.signature import sign

log = logging.getLogger("flint.sandbox")

# Twilio's magic "To" numbers for test credentials, and the errors they give.
MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


class Fault(msgspec.Struct, omit_defaults=True):
    """What the next request for a number does instead of succeeding.

    `status`: answer with this HTTP status (and Twilio `code`). `hold`: wait this many
    seconds before answering; with `record`, the message is taken first (a send that reached
    Twilio whose answer never came back). `callbacks: false`: the taken message's status
    callbacks never arrive (lost on the way)."""

    status: int | None = None
    code: int | None = None
    hold: float = 0.0
    record: bool = False
    callbacks: bool = True


class FaultPlan(msgspec.Struct):
    to: str
    faults: list[Fault]


@dataclass
class SandboxMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    direction: str
    date_created: datetime
    status_callback: str | None = None
    error_code: int | None = None

    def resource(self) -> dict[str, Any]:
        created = format_datetime(self.date_created, usegmt=True)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": created,
            "date_sent": created if self.status in ("sent", "delivered") else None,
            "date_updated": created,
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {},
            "to": self.to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}.json",
        }


_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY CHECK (id = 1), sid TEXT NOT NULL, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    n INTEGER PRIMARY KEY, sid TEXT NOT NULL UNIQUE, account_sid TEXT NOT NULL, "to" TEXT NOT NULL,
    "from" TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, direction TEXT NOT NULL,
    date_created TEXT NOT NULL, status_callback TEXT, error_code INTEGER
);
CREATE TABLE IF NOT EXISTS opted_out (number TEXT PRIMARY KEY);
"""
_COLUMNS = (
    '"sid", "account_sid", "to", "from", "body", "status", "direction", "date_created", "status_callback", "error_code"'
)


class Keeper:
    """The sandbox's file: its account, every message it took or received, and who opted out.
    Written through on each change: a sandbox's texts are few, and with WAL and `synchronous=NORMAL`
    a write is a page append, not an fsync (a power cut may lose the newest; a sandbox can)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # no fsync a write: this runs on the server's loop
        self._conn.executescript(_SCHEMA)

    def account(self, sid: str, token: str) -> tuple[str, str]:
        """The account this file was first made for, so messages it kept stay the account's."""
        self._conn.execute("INSERT OR IGNORE INTO account (id, sid, token) VALUES (1, ?, ?)", (sid, token))
        row = self._conn.execute("SELECT sid, token FROM account").fetchone()
        return str(row[0]), str(row[1])

    def load(self) -> tuple[list[SandboxMessage], set[str]]:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM messages ORDER BY n").fetchall()  # noqa: S608
        messages = [
            SandboxMessage(
                sid=r[0],
                account_sid=r[1],
                to=r[2],
                from_=r[3],
                body=r[4],
                status=r[5],
                direction=r[6],
                date_created=datetime.fromisoformat(r[7]),
                status_callback=r[8],
                error_code=r[9],
            )
            for r in rows
        ]
        opted_out = {str(r[0]) for r in self._conn.execute("SELECT number FROM opted_out")}
        return messages, opted_out

    def keep(self, m: SandboxMessage) -> None:
        at = m.date_created.isoformat()
        self._conn.execute(
            f"INSERT INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
            " ON CONFLICT (sid) DO UPDATE SET status = excluded.status, error_code = excluded.error_code",
            (m.sid, m.account_sid, m.to, m.from_, m.body, m.status, m.direction, at, m.status_callback, m.error_code),
        )

    def opt(self, number: str, out: bool) -> None:
        if out:
            self._conn.execute("INSERT OR IGNORE INTO opted_out (number) VALUES (?)", (number,))
        else:
            self._conn.execute("DELETE FROM opted_out WHERE number = ?", (number,))

    def forget(self) -> None:
        self._conn.executescript("DELETE FROM messages; DELETE FROM opted_out;")

    def close(self) -> None:
        self._conn.close()


@dataclass
class SandboxState:
    account_sid: str
    auth_token: str
    inbound_url: str | None = None
    deliver_base: str | None = None  # send callbacks here (same path), still signed for their own URL
    callback_delay: float = 0.05
    messages: list[SandboxMessage] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    keeper: Keeper | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    @classmethod
    def fresh(cls, **kwargs: Any) -> SandboxState:
        return cls(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16), **kwargs)

    @classmethod
    def kept(cls, path: str | Path, **kwargs: Any) -> SandboxState:
        """A sandbox that keeps what it took in the file at `path`, and finds it there again."""
        keeper = Keeper(path)
        state = cls.fresh(keeper=keeper, **kwargs)
        state.account_sid, state.auth_token = keeper.account(state.account_sid, state.auth_token)
        state.messages, state.opted_out = keeper.load()
        return state

    def _save(self, message: SandboxMessage) -> None:
        if self.keeper is not None:
            self.keeper.keep(message)

    def opt(self, number: str, out: bool) -> None:
        if out:
            self.opted_out.add(number)
        else:
            self.opted_out.discard(number)
        if self.keeper is not None:
            self.keeper.opt(number, out)

    def reset(self) -> None:
        """Forget every message, fault and opt-out."""
        self.messages.clear()
        self.faults.clear()
        self.opted_out.clear()
        if self.keeper is not None:
            self.keeper.forget()

    def to_number(self, number: str) -> list[SandboxMessage]:
        return [m for m in self.messages if m.to == number]

    def next_fault(self, to: str) -> Fault | None:
        for key in (to, "*"):
            queue = self.faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _keep(self, to: str, from_: str, body: str, status: str, direction: str) -> SandboxMessage:
        message = SandboxMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body=body,
            status=status,
            direction=direction,
            date_created=datetime.now(UTC),
        )
        self.messages.append(message)
        self._save(message)
        return message

    def take(
        self, to: str, from_: str, body: str, status_callback: str | None, callbacks: bool = True
    ) -> SandboxMessage:
        message = self._keep(to, from_, body, "queued", "outbound-api")
        message.status_callback = status_callback
        if status_callback:
            self._spawn(self._progress(message, callbacks))
        return message

    async def _progress(self, message: SandboxMessage, callbacks: bool) -> None:
        """The carrier delivers the text; each step is called back unless callbacks are lost."""
        for status in ("sent", "delivered"):
            await asyncio.sleep(self.callback_delay)
            message.status = status
            self._save(message)
            if not callbacks:
                continue
            await self.post_signed(
                message.status_callback or "",
                {
                    "AccountSid": self.account_sid,
                    "ApiVersion": "2010-04-01",
                    "From": message.from_,
                    "MessageSid": message.sid,
                    "MessageStatus": status,
                    "SmsSid": message.sid,
                    "SmsStatus": status,
                    "To": message.to,
                },
            )

    async def receive(self, from_: str, to: str, body: str) -> SandboxMessage:
        """A text from a customer's phone: Twilio's own opt-out handling, then the inbound
        webhook, answered before this returns."""
        word = policy.keyword(body)
        if word in ("opt_out", "opt_in"):
            self.opt(from_, out=word == "opt_out")
        message = self._keep(to, from_, body, "received", "inbound")
        if self.inbound_url:
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": "2010-04-01",
                "Body": body,
                "From": from_,
                "MessageSid": message.sid,
                "NumMedia": "0",
                "SmsMessageSid": message.sid,
                "SmsSid": message.sid,
                "To": to,
            }
            await self.post_signed(self.inbound_url, params)
        return message

    async def post_signed(self, url: str, params: dict[str, str]) -> None:
        target = url
        if self.deliver_base:
            target = self.deliver_base.rstrip("/") + "/" + url.split("://", 1)[-1].split("/", 1)[-1]
        headers = {"X-Twilio-Signature": sign(self.auth_token, url, params)}
        if self._client is None:  # one client for every webhook: making one costs an SSL context each time
            self._client = httpx.AsyncClient(timeout=10)
        try:
            await self._client.post(target, data=params, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("sandbox could not deliver a webhook to %s: %s", target, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.keeper is not None:
            self.keeper.close()
