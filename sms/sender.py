"""What a sender does, whoever is behind it: send one text, and look for a text it may have taken
without our seeing the answer.

    SendResult.kind
    accepted  the provider took the message (it has a sid).
    rejected  it never will (a 4xx other than 429); not retried.
    retry     it did not take it (429, 5xx, no connection at all); safe to try again.
    in_doubt  the request may have reached it but no answer came back (a timeout, a connection
              cut mid-answer): look for it before sending again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Kind = Literal["accepted", "rejected", "retry", "in_doubt"]


@dataclass(frozen=True, slots=True)
class SendResult:
    kind: Kind
    sid: str | None = None
    provider_status: str | None = None
    error_code: int | None = None
    http_status: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Found:
    sid: str
    provider_status: str


class Sender(Protocol):
    from_number: str

    async def send(self, to: str, body: str, status_callback: str) -> SendResult:
        """Send one text; never raises for what the provider answered."""
        ...

    async def find(self, to: str, body: str, since: datetime, taken: Collection[str] = ()) -> Found | None:
        """The text to `to` with this body created at or after `since`, whose sid is not one of
        `taken`, if the provider has one. Raises when the provider cannot be asked."""
        ...
