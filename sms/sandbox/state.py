"""What the sandbox remembers: like Twilio, it keeps the messages it took and who opted out."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
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
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def fresh(cls, **kwargs: Any) -> SandboxState:
        return cls(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16), **kwargs)

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
        if word == "opt_out":
            self.opted_out.add(from_)
        elif word == "opt_in":
            self.opted_out.discard(from_)
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
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await client.post(target, data=params, headers=headers)
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
